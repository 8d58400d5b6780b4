"""Reading zsbed's own TOML files (scenarios, the plan, mutants, coverage
sites, skips), and the checks of an entry's shape their loaders share."""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Collection

from zsbed.core import paths, textfile
from zsbed.core.errors import ZsbedError


def read(path: Path) -> dict[str, Any]:
    """Parse ``path``; a one-line error naming it if it cannot be read or parsed."""
    text = textfile.read_text(path)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ZsbedError(f"{paths.show(path)}: {exc}") from exc


# -- the shape of an entry ----------------------------------------------------
# Every loader of the bed's TOML files checks its entries with these: each
# raises one line that starts with the entry's label (file and entry, and
# the entry's name once known) and says what is wrong.

def table(label: str, entry: Any, required: Collection[str] = (),
          optional: Collection[str] = ()) -> dict[str, Any]:
    """``entry`` as a table with every ``required`` key and no key that is
    neither required nor ``optional``."""
    if not isinstance(entry, dict):
        raise ZsbedError(f"{label}: must be a table")
    unknown = set(entry) - set(required) - set(optional)
    if unknown:
        raise ZsbedError(f"{label}: unknown key '{sorted(unknown)[0]}'")
    for key in sorted(required):
        if key not in entry:
            raise ZsbedError(f"{label}: missing key '{key}'")
    return entry


def text(label: str, entry: dict[str, Any], key: str) -> str:
    """``entry[key]``, a string with something in it."""
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ZsbedError(f"{label}: '{key}' must be a non-empty string")
    return value


def texts(label: str, entry: dict[str, Any], key: str) -> list[str]:
    """``entry[key]``, a non-empty list of non-empty strings."""
    value = entry.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v
                                                           for v in value):
        raise ZsbedError(f"{label}: '{key}' must be a non-empty list of strings")
    return value
