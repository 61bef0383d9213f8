"""The typed stack spec: a stack file read once (stackfile.py), built and validated in one place (loader.py)."""
from .errors import SpecError, SpecIssue
from .loader import load_source, load_stack, parse_spec, spec_from_pulumi
from .model import AUTH_FLOWS, MANAGED_RULESETS
from .records import PlannedRecord
from .spec import Spec, planned_records
from .stackfile import ConfigSource, line_of, read_stack_file, stack_name, stack_path

__all__ = [
    "AUTH_FLOWS", "MANAGED_RULESETS", "ConfigSource", "PlannedRecord", "Spec", "SpecError", "SpecIssue",
    "line_of", "load_source", "load_stack", "parse_spec", "planned_records", "read_stack_file", "spec_from_pulumi",
    "stack_name", "stack_path",
]
