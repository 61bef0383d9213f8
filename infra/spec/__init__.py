"""The typed stack spec, loaded and validated in one place (see loader.py)."""
from .errors import SpecError, SpecIssue
from .loader import ConfigSource, load_source, load_stack, parse_spec, read_stack_file, spec_from_pulumi, stack_name, stack_path
from .model import AUTH_FLOWS, MANAGED_RULESETS
from .records import PlannedRecord, planned_records
from .spec import Spec

__all__ = [
    "AUTH_FLOWS", "MANAGED_RULESETS", "ConfigSource", "PlannedRecord", "Spec", "SpecError", "SpecIssue",
    "load_source", "load_stack", "parse_spec", "planned_records", "read_stack_file", "spec_from_pulumi", "stack_name", "stack_path",
]
