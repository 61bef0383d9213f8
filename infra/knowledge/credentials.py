"""Which strings are credentials: the detect-secrets plugins every secret scan here uses.

The gate's repository scan, its stack-file and state scans, and the policy rules that look for a
credential in an ordinary value all recognise credentials with the same high-signal plugins: ones
that match a credential by its own shape. detect-secrets' keyword and entropy plugins are left out
of the default set (they would flag ids, hashes and ARNs); the repository scan adds them on request.
"""
from __future__ import annotations

import importlib
import inspect
from functools import lru_cache

# (detect-secrets module, plugin class) of the high-signal plugins.
HIGH_SIGNAL_PLUGINS: tuple[tuple[str, str], ...] = (
    ("aws", "AWSKeyDetector"), ("artifactory", "ArtifactoryDetector"),
    ("azure_storage_key", "AzureStorageKeyDetector"), ("basic_auth", "BasicAuthDetector"),
    ("discord", "DiscordBotTokenDetector"), ("github_token", "GitHubTokenDetector"),
    ("gitlab_token", "GitLabTokenDetector"), ("jwt", "JwtTokenDetector"), ("mailchimp", "MailchimpDetector"),
    ("npm", "NpmDetector"), ("openai", "OpenAIDetector"), ("private_key", "PrivateKeyDetector"),
    ("pypi_token", "PypiTokenDetector"), ("sendgrid", "SendGridDetector"), ("slack", "SlackDetector"),
    ("square_oauth", "SquareOAuthDetector"), ("stripe", "StripeDetector"),
    ("telegram_token", "TelegramBotTokenDetector"), ("twilio", "TwilioKeyDetector"),
)
PLUGIN_NAMES = tuple(name for _, name in HIGH_SIGNAL_PLUGINS)

# For one value (a resource input, a config value) rather than a file, a narrower set: Telegram's
# `<digits>:<35 characters>` matches every SNS topic or alarm ARN (`123456789012:portal-alerts...`).
# Artifactory, Azure storage key and Square OAuth have not been shown safe on ids and ARNs either.
VALUE_PLUGINS = tuple(p for p in HIGH_SIGNAL_PLUGINS if p[1] not in (
    "TelegramBotTokenDetector", "ArtifactoryDetector", "AzureStorageKeyDetector", "SquareOAuthDetector"))


def plugins(which: tuple[tuple[str, str], ...] = HIGH_SIGNAL_PLUGINS) -> list:
    """Fresh instances of the plugins (detect-secrets plugins keep per-scan state)."""
    out = []
    for module_name, class_name in which:
        module = importlib.import_module(f"detect_secrets.plugins.{module_name}")
        cls = getattr(module, class_name)
        assert inspect.isclass(cls), class_name
        out.append(cls())
    return out


@lru_cache(maxsize=1)
def _value_plugins() -> tuple:
    return tuple(plugins(VALUE_PLUGINS))


@lru_cache(maxsize=65536)
def credential_kind(value: str) -> str | None:
    """The detect-secrets plugin name that recognises `value` as a credential, or None.

    Cached: the same ids, ARNs and tags recur on thousands of resources."""
    if len(value) < 12:
        return None
    for plugin in _value_plugins():
        try:
            if any(True for _ in plugin.analyze_string(value)):
                return plugin.secret_type
        except Exception:  # noqa: BLE001 - a plugin choking on odd input is not a finding
            continue
    return None
