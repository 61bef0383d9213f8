"""Where a findings report goes: rendered in the chosen format to a file or the terminal."""
from __future__ import annotations

import sys


def emit(report, fmt: str, output: str | None, command: str) -> int:
    """Render a findings report in `fmt` to `output` (or stdout) and return its exit code.

    With --output, a short text summary still goes to stderr so a CI log says what happened.
    Input errors in the text/console formats go to stderr.
    """
    from infra.findings.render import RENDERERS

    if fmt == "console" and not output:
        from rich.console import Console

        from infra.findings.render.console import render_console

        render_console(report, Console(stderr=bool(report.errors)))
        return report.exit_code
    text = RENDERERS["text" if fmt == "console" else fmt](report)
    if output:
        try:
            with open(output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            print(f"launchready {command}: cannot write {output}: {exc.strerror}", file=sys.stderr)
            return 2
        if fmt not in ("text", "console"):
            print(RENDERERS["text"](report), end="", file=sys.stderr)
    elif report.errors and fmt in ("text", "console"):
        print(text, end="", file=sys.stderr)
    else:
        print(text, end="")
    return report.exit_code
