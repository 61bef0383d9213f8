"""Renderers of a findings Report. They only format: every status, level, location and exit code
is decided before a Report reaches them."""
from __future__ import annotations

from collections.abc import Callable

from ..model import Report
from .jsonfmt import render_json
from .junit import render_junit
from .markdown import render_markdown
from .sarif import render_sarif
from .text import render_text

# Formats that render to text; `console` (rich, to a terminal) is render.console.render_console.
RENDERERS: dict[str, Callable[[Report], str]] = {
    "text": render_text, "json": render_json, "sarif": render_sarif, "junit": render_junit, "md": render_markdown,
}
FORMATS = ("console", *RENDERERS)
