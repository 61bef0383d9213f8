"""The typed stack spec the rules judge against: the one way a rule learns what the stack declares.

Rules read resources; a few also need what the stack file says (which hosts are the portal's, which
flows are authentication, whether DMARC is in a staged rollout, the environment). They get it as
the typed, validated `infra.spec.Spec`, never by decoding the engine's raw config themselves:

  current_spec() -> Spec | None

* The offline gate, which has already loaded and validated the stack file, sets it explicitly:

      with use_spec(spec):
          ...run the rules...

* Under the real engine (`pulumi preview --policy-pack policies`), nobody sets it: it is built
  lazily from the config the engine hands the pack (PULUMI_CONFIG), by the spec's own loader
  (infra.spec), once per distinct config. The same fallback serves any caller that runs the rules
  with the Pulumi runtime config set and no `use_spec` (the gate does, until it calls use_spec).

When no spec can be built (no config at all, as in most unit tests, or a config the spec rejects,
in which case the program itself fails before anything is applied), current_spec() is None and
each rule behaves as it does without stack config: no host-derived targets, not a staged rollout,
environment "production".
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from infra.spec import Spec

_LOCK = threading.Lock()
# Specs set with use_spec, innermost last. A plain list, not a ContextVar: the engine's gRPC
# servicer calls rules on worker threads, which must see what the caller set.
_GIVEN: list[Spec] = []
# (config key, spec or None) of the last spec built from the runtime config.
_BUILT: tuple[Any, Spec | None] | None = None


@contextmanager
def use_spec(spec: Spec) -> Iterator[Spec]:
    """Make `spec` what current_spec() returns inside the block (nested blocks: the innermost)."""
    with _LOCK:
        _GIVEN.append(spec)
    try:
        yield spec
    finally:
        with _LOCK:
            # Remove this block's entry (the last identical one), even if blocks ended out of order.
            for i in range(len(_GIVEN) - 1, -1, -1):
                if _GIVEN[i] is spec:
                    del _GIVEN[i]
                    break


def current_spec() -> Spec | None:
    """The stack's typed spec: the one given with use_spec, else the one built from the runtime
    config the engine hands the pack, else None (no config, or one the spec rejects)."""
    with _LOCK:
        if _GIVEN:
            return _GIVEN[-1]
    return _spec_from_runtime_config()


def environment() -> str:
    """The stack's launchready:environment ("production" when there is no spec)."""
    spec = current_spec()
    return spec.environment if spec is not None else "production"


def stack_name() -> str | None:
    """The stack's name under the real engine, which hands it to the policy pack's process as
    PULUMI_STACK (with PULUMI_CONFIG: pulumi/pulumi sdk/go/common/resource/plugin/analyzer_plugin.go,
    constructEnv); None when it does not (an older CLI). The offline gate knows its stack itself."""
    import os

    return os.environ.get("PULUMI_STACK") or None


def _spec_from_runtime_config() -> Spec | None:
    global _BUILT
    try:
        from infra.spec.loader import source_from_pulumi

        source = source_from_pulumi()
    except Exception:  # noqa: BLE001 - no runtime config at all: as when the key is absent
        return None
    key = (tuple(sorted(source.values.items())), tuple(sorted(source.secret_keys)))
    with _LOCK:
        if _BUILT is not None and _BUILT[0] == key:
            return _BUILT[1]
    from infra.spec import SpecError, parse_spec

    try:
        spec: Spec | None = parse_spec(source)
    except SpecError:
        spec = None
    with _LOCK:
        _BUILT = (key, spec)
    return spec


__all__ = ["current_spec", "environment", "stack_name", "use_spec"]
