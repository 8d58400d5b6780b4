"""zsbed/ is typed: mypy --strict finds nothing (Debian's mypy, installed by make deps)."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_zsbed_is_mypy_strict_clean() -> None:
    proc = subprocess.run(
        ["mypy", "--strict", "--cache-dir", str(REPO / "build" / "mypy-cache"), "zsbed"],
        cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
