"""Where things live: the repo, its caches, build trees and results."""
from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
WORK = REPO / "work"              # downloads, pristine and patched trees
BUILD = REPO / "build"            # kernel builds, guest init, selftests
RESULTS = REPO / "results"
UML_CONFIG = REPO / "uml-config"
PATCHES = REPO / "patches"
SELFTESTS = REPO / "selftests"
GUEST_SRC = REPO / "zsbed" / "guest"


def show(path: Path) -> str:
    """A path as messages print it: relative to the repo when inside it."""
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)
