"""Check modules register themselves on import. A new area (tls, http, aws) is a new module here."""
from .. import probes  # noqa: F401  (probe registration)
from . import zone, mail  # noqa: F401
