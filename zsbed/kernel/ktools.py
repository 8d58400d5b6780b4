"""Import the kernel's own kunit.py modules from the tree under test.

zsbed parses KTAP with ``tools/testing/kunit/kunit_parser.py`` and checks
Kconfig with ``kunit_config.py`` from the fetched (or KSRC) tree, so results
mean exactly what they mean to kunit.py users. Nothing is copied.
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

from zsbed.core.errors import ZsbedError


def load(tree: Path, name: str) -> ModuleType:
    """Import ``name`` (kunit_parser, kunit_config) from ``tree``."""
    kunit_dir = tree / "tools" / "testing" / "kunit"
    if not (kunit_dir / f"{name}.py").is_file():
        raise ZsbedError(f"{kunit_dir}: {name}.py missing")
    loaded = sys.modules.get(name)
    if loaded is not None:
        if Path(loaded.__file__ or "").parent.resolve() == kunit_dir.resolve():
            return loaded
        for mod in ("kunit_parser", "kunit_printer", "kunit_config"):
            sys.modules.pop(mod, None)
    if str(kunit_dir) not in sys.path:
        sys.path.insert(0, str(kunit_dir))
    return importlib.import_module(name)
