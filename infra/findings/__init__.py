"""The one findings model (model.py) and the renderers that format it (render/)."""
from .model import Finding, Location, Report, RuleInfo, Status, exit_code, jsonable, nothing_checked

__all__ = ["Finding", "Location", "Report", "RuleInfo", "Status", "exit_code", "jsonable", "nothing_checked"]
