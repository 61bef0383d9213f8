"""The one way verify reaches AWS: one boto3 Session per run, made on first use, and AWS's failures
turned into could-not-check errors.

The standard settings are honoured as boto3 reads them (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL and
the per-service AWS_ENDPOINT_URL_<SERVICE>, the credential chain), so moto or a staging account can
stand in. Throttling is retried by botocore's standard retry mode with a bounded number of attempts
and short timeouts, so a run stays inside its deadline. AccessDenied, throttling that outlasts the
retries, an unreachable endpoint and missing credentials raise an AwsUnavailable subclass: the runner
turns it into ERROR with the reason, never a verdict.
"""
from __future__ import annotations

import os
import threading
from typing import Any

ACCESS_DENIED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError",
                 "UnrecognizedClientException", "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException",
                 "SignatureDoesNotMatch", "InvalidSignatureException", "AuthFailure")
THROTTLED = ("Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded",
             "TooManyRequestsException", "RequestThrottled", "RequestThrottledException", "PriorRequestNotComplete")


class AwsUnavailable(Exception):
    """AWS could not be asked: a could-not-check (ERROR), never a verdict about the account."""


class AwsNotConfigured(AwsUnavailable):
    pass


class AwsAccessDenied(AwsUnavailable):
    pass


class AwsThrottled(AwsUnavailable):
    pass


class AwsUnreachable(AwsUnavailable):
    pass


class AwsClients:
    """Clients per (service, region) from one Session; thread-safe (probes run concurrently)."""

    def __init__(self, timeout: float = 3.0, max_attempts: int = 3, session: Any = None):
        self.timeout, self.max_attempts = timeout, max_attempts
        self._session = session
        self._clients: dict[tuple[str, str | None], Any] = {}
        self._lock = threading.Lock()
        self._checked = False
        self._missing: str | None = None

    def session(self) -> Any:
        with self._lock:
            if self._session is None:
                import boto3

                self._session = boto3.Session()
            if self._missing is not None:
                raise AwsNotConfigured(self._missing)
            if not self._checked:
                # Resolved once, the answer kept either way: without credentials botocore's chain ends
                # at the instance-metadata service, which takes seconds to time out off EC2; asking it
                # again for every probe spent the whole deadline.
                if self._session.get_credentials() is None:
                    self._missing = ("no AWS credentials (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
                                     "AWS_SECRET_ACCESS_KEY; or --skip aws)")
                    raise AwsNotConfigured(self._missing)
                self._checked = True
            return self._session

    @property
    def region(self) -> str | None:
        # botocore reads AWS_DEFAULT_REGION and the profile; AWS_REGION is what the SDKs and the CLI
        # document now, and what Pulumi's AWS provider reads.
        return self.session().region_name or os.environ.get("AWS_REGION") or None

    def client(self, service: str, region: str | None = None) -> Any:
        session = self.session()
        region = region or self.region
        if region is None and service not in ("iam", "route53"):
            raise AwsNotConfigured(f"no AWS region for {service} (set AWS_REGION or the profile's region)")
        with self._lock:
            k = (service, region)
            if k not in self._clients:
                from botocore.config import Config

                cfg = Config(retries={"mode": "standard", "max_attempts": self.max_attempts},
                             connect_timeout=self.timeout, read_timeout=self.timeout)
                self._clients[k] = session.client(service, region_name=region or "us-east-1", config=cfg)
            return self._clients[k]

    def call(self, service: str, operation: str, region: str | None = None, **params: Any) -> dict:
        """One API call; AWS's refusals and outages become AwsUnavailable (with the operation named)."""
        return call(self.client(service, region), operation, **params)

    def pages(self, service: str, operation: str, key: str, region: str | None = None, **params: Any) -> list:
        """Every item under `key` of a paginated operation."""
        client = self.client(service, region)
        try:
            return [x for page in client.get_paginator(operation).paginate(**params) for x in page.get(key, [])]
        except Exception as exc:
            raise translate(exc, operation) from exc


def call(client: Any, operation: str, **params: Any) -> dict:
    try:
        return getattr(client, operation)(**params)
    except Exception as exc:
        raise translate(exc, operation) from exc


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    return str((response.get("Error") or {}).get("Code") or "")


def translate(exc: BaseException, operation: str) -> BaseException:
    """AwsUnavailable for denied, throttled and unreachable; any other error unchanged (the caller
    handles the codes it expects, such as ResourceNotFoundException)."""
    from botocore.exceptions import (
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        ReadTimeoutError,
    )

    code = error_code(exc)
    message = str((getattr(exc, "response", None) or {}).get("Error", {}).get("Message") or "")
    if code in ACCESS_DENIED:
        return AwsAccessDenied(f"{operation}: access denied ({code}{': ' + message if message else ''})")
    if code in THROTTLED:
        return AwsThrottled(f"{operation}: throttled by AWS after retries ({code})")
    if isinstance(exc, (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError)):
        return AwsUnreachable(f"{operation}: AWS endpoint unreachable ({exc})")
    if isinstance(exc, NoCredentialsError):
        return AwsNotConfigured(f"{operation}: no AWS credentials")
    if isinstance(exc, NoRegionError):
        return AwsNotConfigured(f"{operation}: no AWS region (set AWS_REGION)")
    return exc
