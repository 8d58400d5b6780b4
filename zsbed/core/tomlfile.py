"""Reading zsbed's own TOML files: scenarios, the plan, mutants, coverage sites."""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from zsbed.core import paths, textfile
from zsbed.core.errors import ZsbedError


def read(path: Path) -> dict[str, Any]:
    """Parse ``path``; a one-line error naming it if it cannot be read or parsed."""
    text = textfile.read_text(path)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ZsbedError(f"{paths.show(path)}: {exc}") from exc
