"""The mail provider catalog (mail_providers.yaml): adding a provider is adding data.

Read by the mail section (which providers and parameters exist) and by the mail plan (which
records, DKIM selectors and SPF includes a provider needs)."""
from __future__ import annotations

import functools
import re
from pathlib import Path

import yaml

CATALOG_FILE = Path(__file__).with_name("mail_providers.yaml")


@functools.lru_cache(maxsize=1)
def catalog() -> dict:
    """The provider catalog, read once per process."""
    return yaml.safe_load(CATALOG_FILE.read_text())


def provider_ids() -> list[str]:
    return sorted(catalog()["providers"])


def spf_lookup_cost(include: str) -> int | None:
    return catalog()["spf_lookups"].get(include)


_TEMPLATE = re.compile(r"\{(\w+)\}")


def fill(template: str, values: dict[str, str]) -> str:
    """A catalog template ('{selector}._domainkey') with the provider's parameter values."""
    # Defaults may themselves refer to other params (microsoft-365's selector targets), hence the loop.
    text = str(template)
    for _ in range(3):
        text = _TEMPLATE.sub(lambda m: values.get(m.group(1), m.group(0)), text)
    return text


def relative(label: str, domain: str) -> str:
    """'@' → the domain itself; 'bounce' → bounce.<domain>."""
    return domain if label in ("@", "") else f"{label}.{domain}"


@functools.lru_cache(maxsize=1)
def recognisers() -> dict[str, dict]:
    """Provider title → how to recognise it from published records: SPF includes (`spf`), regexes of
    DKIM CNAME targets (`dkim`) and of DKIM selectors (`selector`, or None)."""
    return {p["title"]: p["recognise"] for p in catalog()["providers"].values() if "recognise" in p}
