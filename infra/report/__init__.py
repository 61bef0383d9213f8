"""`launchready report`: one handover report from what plan, gate and verify found.

combine.py merges the commands' findings Reports into one (exit code: the worst of them);
collect.py reads them from a results directory or runs plan and gate (and verify, when asked)
in-process through their `launchready.commands` entry points, so nothing here imports a room above;
handover.py adds what the spec declares, what to watch and the checks no automation can make;
history.py compares with an earlier report; formats.py renders (jinja2 templates for md and html,
the shared findings renderers for json, junit and sarif).
"""
