"""docs/policies.md, generated from the rule registry so the catalogue cannot drift from the code.

  python -m policies.catalogue --write     # regenerate docs/policies.md
  python -m policies.catalogue --check     # exit 1 if docs/policies.md is stale (a test runs this)
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "policies.md"

USAGE = """\
# Policies: the pack and the offline pull-request gate

`policies/` is a [CrossGuard](https://www.pulumi.com/docs/iac/crossguard/) policy pack that judges what
the launch program declares — the Cloudflare edge, DNS, mail authentication, secret stores and
monitors — before anything is applied. The same rules run in two places:

| where | command | needs |
|---|---|---|
| pull request (any fork, no secrets) | `launchready gate --stack prod` | Python only: the program runs under Pulumi's mock runtime |
| before `pulumi up` | `pulumi preview --stack prod --policy-pack policies` | Pulumi CLI, cloud credentials |

Rules judge what is well formed but insecure; what is malformed is rejected earlier by the stack
spec (`launchready plan` and the gate print spec errors and exit 2).

## With `pulumi preview`

```sh
uv sync                                   # creates .venv with this project installed (see README)
pulumi preview --stack prod --policy-pack policies
pulumi preview --stack prod --policy-pack policies --policy-pack-config policy-config.json
```

The engine runs `policies/__main__.py` with the virtualenv named in `policies/PulumiPolicy.yaml`
(`../.venv`, the project's own), so `import policies.rules` works only once the project is installed
there. Mandatory violations stop the preview/update; advisory ones are printed. A rule that meets a
value unknown during preview (an id not yet assigned) is reported as advisory, as the engine does.
Outside production (`launchready:environment`), the rules marked *production only* below start as
advisory, and the settings named in that column are relaxed (the pack's initial config, derived
from the stack config the engine hands it). In the template stack this repository ships
(`example`, the stack name the engine hands the pack as `PULUMI_STACK`), the rules marked *advisory
in the template stack* start as advisory too: its placeholder values are expected there, and in no
other stack.

## The offline gate in CI

```sh
launchready gate --stack prod                         # text report; exit 1 on a mandatory violation
launchready gate --stack prod --format sarif -o gate.sarif
launchready gate --stack prod --format junit -o gate.xml
launchready gate --stack prod --format md >> "$GITHUB_STEP_SUMMARY"
launchready gate --stack prod --format json
launchready gate --stack prod --policy-config policy-config.json
```

Every format renders the same findings (docs/findings.md: a mandatory violation is a FAIL, an
advisory one a WARN, a rule that could not run an ERROR that is never counted as passed).

The gate loads `stacks/Pulumi.<stack>.yaml`, runs the real program under Pulumi's mock runtime,
and presents every resource to the pack through the policy SDK's own analyzer — Analyze per
resource (inputs), AnalyzeStack once — exactly as the engine does: engine property names
(camelCase), numbers as floats, secrets unwrapped, unknown values downgraded to advisory. It then
runs the gate-only checks the engine cannot: plaintext secrets in the stack file, credentials
committed in the repository (detect-secrets' pattern plugins; `--scan-path`, `--baseline`,
`--no-repo-scan`; accept a finding with `# pragma: allowlist secret` or a detect-secrets baseline,
default `.secrets.baseline`), and secret values the program would store unmarked in state.

Exit codes: `0` no mandatory violation (advisory ones are printed); `1` at least one mandatory
violation; `2` the stack spec or the policy config is invalid (nothing was judged). No secret value
is ever printed. Each finding points at a line of the stack file (or the infra source that declares
the resource), so SARIF results annotate the pull request. A GitHub Actions job:

```yaml
- run: pip install -e . && launchready gate --stack prod --format sarif -o gate.sarif
- uses: github/codeql-action/upload-sarif@v3
  if: always()
  with: {sarif_file: gate.sarif, category: launchready-gate}
```

## Policy config

The same JSON file works for `pulumi preview --policy-pack-config` and `launchready gate --policy-config`:
an enforcement level (`mandatory`, `advisory`, `disabled`) or an object with `enforcementLevel` and the
rule's properties; `"all"` sets every level first.

```json
{
  "all": "mandatory",
  "hsts-max-age": {"minMaxAge": 63072000},
  "cname-takeover-risk": {"enforcementLevel": "advisory", "allowedTargets": ["docs-acme.github.io"]},
  "public-host-health-check": "disabled"
}
```

An unknown rule name, level or property, or a value the rule's schema rejects, is an error (exit 2).

## Adding a rule

Write a `check(props, config)` (one resource) or `check(resources, config)` (the stack) generator
that yields messages, decorate it with `@resource_rule` / `@stack_rule` in the module of its area
(`policies/rules/`: tls, hsts, waf, ratelimits, headers, cache, dnsrules, mail, secretrules,
monitoring, apply, edgeapply, entitlements), list it in that module's `RULES` tuple (the catalogue order), give it a kebab-case id that never changes, a description, remediation steps a
newcomer can follow, a severity, a default enforcement level and a config schema for its tunables,
add a happy-path test and one-field variants, then `python -m policies.catalogue --write`.
A rule that reads the hosts of a rule expression uses `policies.props.host_match` (exact names,
`wildcard` patterns and their `not` exclusions, as the program writes them for tenant groups) rather
than matching strings.
"""


def _schema_text(schema) -> str:
    if not schema:
        return "none"
    parts = []
    for key, prop in schema.properties.items():
        default = json.dumps(prop.get("default")) if "default" in prop else "—"
        if len(default) > 60:
            default = default[:57] + "..."
        parts.append(f"`{key}` ({prop.get('type', 'any')}, default `{default}`): {prop.get('description', '')}")
    return "<br>".join(parts)


def render() -> str:
    from .rules import ADVISORY_IN_TEMPLATE, ALL, NON_PRODUCTION_SETTINGS, PRODUCTION_ONLY, TEMPLATE_STACKS
    from .scan import GATE_CHECKS

    def relaxed(name: str) -> str:
        settings = NON_PRODUCTION_SETTINGS.get(name)
        return ", ".join(f"`{k}: {json.dumps(v)}`" for k, v in settings.items()) if settings else ""

    template = " or ".join(f"`{t}`" for t in sorted(TEMPLATE_STACKS))

    def in_template(name: str) -> str:
        return f"advisory in the template stack {template}" if name in ADVISORY_IN_TEMPLATE else ""

    everything = list(ALL) + list(GATE_CHECKS)
    out = [USAGE, "## Catalogue", "",
           f"{len(ALL)} rules run in the engine and in the gate; {len(GATE_CHECKS)} checks run only in the gate. "
           "Ids are stable; messages may change.", "",
           "| id | area | kind | severity | default | production only |", "|---|---|---|---|---|---|"]
    for r in everything:
        level = r.enforcement_level.value if r.enforcement_level else "advisory"
        out.append(f"| [`{r.name}`](#{r.name}) | {r.area} | {r.kind} | {r.severity.value} | {level} | "
                   f"{'yes' if r.name in PRODUCTION_ONLY else ''}"
                   f"{('settings: ' + relaxed(r.name) + ' outside') if relaxed(r.name) else ''}"
                   f"{('; ' + in_template(r.name)) if in_template(r.name) else ''} |")
    out.append("")
    for r in everything:
        level = r.enforcement_level.value if r.enforcement_level else "advisory"
        out += [f"### {r.name}", "",
                f"*{r.area} · {r.kind} rule · severity {r.severity.value} · default {level}"
                f"{' (advisory outside production)' if r.name in PRODUCTION_ONLY else ''}"
                f"{(' (' + relaxed(r.name) + ' outside production)') if relaxed(r.name) else ''}"
                f"{(' (' + in_template(r.name) + ')') if in_template(r.name) else ''}*", "",
                r.description, "",
                f"**Config:** {_schema_text(r.config_schema)}", "",
                "**Remediation:**", ""]
        out += [f"> {line}" if line.strip() else ">" for line in (r.remediation_steps or "").splitlines()]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m policies.catalogue", description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", action="store_true")
    group.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    text = render()
    if args.write:
        DOC.parent.mkdir(parents=True, exist_ok=True)
        DOC.write_text(text, encoding="utf-8")
        return 0
    current = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    if current != text:
        print(f"{DOC} is stale: run python -m policies.catalogue --write", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
