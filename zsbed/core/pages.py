"""HTML reports from Jinja templates (Debian's python3-jinja2), with every
value escaped: a template sits beside the module that owns its report."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from zsbed.core import deps


def render(template: Path, **values: Any) -> str:
    """``template`` (a file) filled with ``values``, autoescaped."""
    deps.ensure()          # python3-jinja2 is one of them (make merge runs on a bare image)
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(template.parent),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True)
    return env.get_template(template.name).render(**values)
