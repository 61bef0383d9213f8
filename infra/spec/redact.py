"""Hide credentials that travel inside ordinary-looking values before anything is printed.

Secret *config* values are masked by the places that know they are secret. This covers the rest:
a password in a URL's userinfo (user and password before the host, as in database URLs), and
capability URLs, where the URL itself is the credential (Slack/Teams/Discord webhooks,
...?token=...). Plan output and spec errors pass their text through redact() / redact_tree().
"""
from __future__ import annotations

import re
from typing import Any

MASK = "[secret]"

_URL = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*://)([^\s/?#'\"]*)([^\s'\"]*)")
_TOKENISH = re.compile(r"(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{12,}")
# Hosts whose URLs are credentials whatever the path looks like.
_WEBHOOK_HOSTS = re.compile(r"(?i)^(hooks\.slack\.com|(discord|discordapp)\.com|[\w-]+\.webhook\.office\.com|"
                            r"outlook\.office\.com|chat\.googleapis\.com|api\.telegram\.org|events\.pagerduty\.com)(:\d+)?$")
# A query parameter whose NAME says credential (access_token, X-Api-Key, client_secret, sig, pwd ...).
_SECRET_PARAM = re.compile(r"(?i)([?&;][\w.-]*(?:token|key|secret|sig|signature|pass|pwd|auth|credential|session|code)"
                           r"[\w.-]*=)[^&#;\s]+")


def _redact_url(match: re.Match) -> str:
    scheme, authority, rest = match.groups()
    if "@" in authority:
        userinfo, _, host = authority.rpartition("@")
        if ":" in userinfo:
            authority = f"{userinfo.split(':', 1)[0]}:{MASK}@{host}"
        elif _TOKENISH.fullmatch(userinfo) or len(userinfo) >= 20:
            authority = f"{MASK}@{host}"  # a token used as the user name (https://<token>@api.example.com)
    path = rest.split("?", 1)[0].split("#", 1)[0]
    # A path segment that looks like a generated token makes the URL a capability: keep the host.
    host = authority.rpartition("@")[2]
    if (_WEBHOOK_HOSTS.match(host) and path.strip("/")) or any(_TOKENISH.fullmatch(seg) for seg in path.split("/") if seg):
        return f"{scheme}{authority}/{MASK}"
    return f"{scheme}{authority}{_SECRET_PARAM.sub(lambda m: m.group(1) + MASK, rest)}"


def redact(text: str) -> str:
    return _URL.sub(_redact_url, text) if "://" in text else text


def redact_tree(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_tree(v) for v in value]
    return value
