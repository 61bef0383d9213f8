"""What the monitors cost a month, for the plan line: AWS list prices (us-east-1, USD).

Route 53 (aws.amazon.com/route53/pricing, as of 2026-09): a health check of a non-AWS endpoint (the
Cloudflare edge is one) costs $0.75 a month, and each optional feature $2.00 more: HTTPS, string
matching, the fast (10 s) interval and latency measurement. The default quota is 200 health checks
per account ("Need more than 200 health checks? Contact us"). CloudWatch: $0.10 per standard-resolution
alarm metric a month. Estimates for a reader, not a bill.
"""
from __future__ import annotations

PRICED_AS_OF = "2026-09"
HEALTH_CHECK_BASE_USD = 0.75
HEALTH_CHECK_OPTION_USD = 2.00
ALARM_USD = 0.10
DEFAULT_HEALTH_CHECK_QUOTA = 200


def health_check_usd(https: bool = True, latency: bool = True, fast_interval: bool = False, string_match: bool = False) -> float:
    options = sum((https, latency, fast_interval, string_match))
    return HEALTH_CHECK_BASE_USD + HEALTH_CHECK_OPTION_USD * options


def monthly_usd(checks: int, alarms: int, fast_interval: bool = False) -> float:
    return round(checks * health_check_usd(fast_interval=fast_interval) + alarms * ALARM_USD, 2)
