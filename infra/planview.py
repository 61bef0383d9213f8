"""Render a mock run as a launch plan (console or JSON). Renders only: it computes nothing."""
from __future__ import annotations

import json
from collections import defaultdict
from typing import Any, Callable

from rich.console import Console
from rich.table import Table

from infra.mockrun import PlannedResource, PlanRun

Describer = Callable[[dict[str, Any]], str]
DESCRIBERS: dict[str, Describer] = {}


def describes(*types: str):
    def register(fn: Describer) -> Describer:
        for t in types:
            DESCRIBERS[t] = fn
        return fn
    return register


@describes("cloudflare:index/dnsRecord:DnsRecord")
def _dns(i):
    if i.get("type") == "CAA" and i.get("data"):
        d = i["data"]
        content = f'{int(d.get("flags", 0))} {d.get("tag")} "{d.get("value")}"'
    else:
        content = i.get("content", "")
    prio = f' prio {int(i["priority"])}' if i.get("priority") is not None else ""
    ttl = "auto" if int(i.get("ttl") or 1) == 1 else f'{int(i["ttl"])}s'
    edge = "proxied" if i.get("proxied") else f"DNS only, ttl {ttl}"
    return f'{i.get("type")} {i.get("name")} → {content}{prio} ({edge})'


@describes("cloudflare:index/zoneSetting:ZoneSetting")
def _setting(i):
    value = i.get("value")
    if isinstance(value, dict) and "strict_transport_security" in value:
        h = value["strict_transport_security"]
        value = (f'HSTS {"on" if h.get("enabled") else "OFF"}, max-age {int(h.get("max_age", 0))}'
                 f'{", includeSubDomains" if h.get("include_subdomains") else ""}{", preload" if h.get("preload") else ""}')
    return f'{i.get("settingId")} = {value}'


@describes("cloudflare:index/ruleset:Ruleset")
def _ruleset(i):
    lines = [f'{i.get("phase")}: {len(i.get("rules") or [])} rule(s)']
    for rule in i.get("rules") or []:
        lines.append(f'  • {rule.get("description") or rule.get("action")}  [{rule.get("action")}]')
    return "\n".join(lines)


@describes("cloudflare:index/zoneDnssec:ZoneDnssec")
def _dnssec(i):
    return f'DNSSEC status = {i.get("status")}'


@describes("cloudflare:index/zone:Zone")
def _zone(i):
    return f'create zone {i.get("name")} ({i.get("type", "full")})'


def _generic(i: dict[str, Any]) -> str:
    shown = [f"{k}={v}" for k, v in i.items() if isinstance(v, (str, int, float, bool)) and k not in ("zoneId",)][:5]
    return ", ".join(shown)


def describe(res: PlannedResource) -> str:
    return DESCRIBERS.get(res.type, _generic)(res.masked_inputs())


def _short_type(t: str) -> str:
    pkg, _, rest = t.partition(":")
    return f"{pkg}:{rest.rsplit(':', 1)[-1]}"


def grouped(run: PlanRun) -> dict[str, list[PlannedResource]]:
    """Resources by outermost component, in a stable order (registration order is not)."""
    groups: dict[str, list[PlannedResource]] = defaultdict(list)
    for res in sorted(run.custom(), key=lambda r: (r.type, r.name)):
        top = run.top_component(res)
        label = f"{top.type.split(':')[-1]} ({top.name})" if top else "stack"
        groups[label].append(res)
    return dict(sorted(groups.items()))


def render_console(run: PlanRun, console: Console) -> None:
    contract = run.outputs.get("launchContract") or {}
    console.print(f"[bold]Launch plan[/bold] for stack [cyan]{run.stack}[/cyan]"
                  f" — {contract.get('domain', '?')} ({contract.get('environment', '?')}),"
                  f" canonical host {contract.get('canonicalHost', '?')}")
    for label, resources in grouped(run).items():
        table = Table(title=label, title_justify="left", show_header=True, expand=False)
        table.add_column("resource", style="dim", no_wrap=True)
        table.add_column("settings that matter")
        for res in resources:
            table.add_row(f"{_short_type(res.type)}\n{res.name}", describe(res))
        console.print(table)
    n = len(run.custom())
    console.print(f"[bold]{n}[/bold] resources to create in {len(grouped(run))} components; "
                  f"stack outputs: {', '.join(sorted(run.outputs))}.")
    console.print("No cloud call was made: providers were mocked. Apply with `pulumi up --stack "
                  f"{run.stack}`.")


def render_json(run: PlanRun) -> str:
    by = grouped(run)
    doc = {
        "stack": run.stack,
        "components": [
            {"component": label, "resources": [
                {"type": r.type, "name": r.name, "urn": r.urn, "inputs": r.masked_inputs()} for r in resources
            ]} for label, resources in by.items()
        ],
        "outputs": run.outputs,
        "resourceCount": len(run.custom()),
    }
    return json.dumps(doc, indent=2, sort_keys=False, default=str)
