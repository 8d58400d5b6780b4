"""make lint: zsbed's own Python held to mypy --strict and flake8, both
from Debian, both set up in pyproject.toml (nothing here picks an option)."""
from __future__ import annotations

import subprocess
import sys
import tomllib

from zsbed.core import paths
from zsbed.core.errors import ZsbedError
from zsbed.core.progress import say

PYPROJECT = paths.REPO / "pyproject.toml"
TARGETS = ("zsbed", "tests")


def flake8_options() -> list[str]:
    """pyproject.toml's [tool.flake8], as flake8's own options."""
    try:
        table = tomllib.loads(PYPROJECT.read_text())["tool"]["flake8"]
    except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        raise ZsbedError(f"{paths.show(PYPROJECT)}: no usable [tool.flake8] ({exc})") from None
    out = []
    for key, value in table.items():
        text = ",".join(value) if isinstance(value, list) else str(value)
        out.append(f"--{key}={text}")
    return out


def check() -> int:
    """Both checkers; 0 when both find nothing, else 1 (their findings printed)."""
    failed = []
    checks = {"mypy": [sys.executable, "-m", "mypy"],
              "flake8": [sys.executable, "-m", "flake8", *flake8_options(), *TARGETS]}
    for name, cmd in checks.items():
        proc = subprocess.run(cmd, cwd=paths.REPO, capture_output=True, text=True)
        out = (proc.stdout + proc.stderr).strip()
        if proc.returncode:
            print(out)
            failed.append(name)
        say(f"[lint] {name}: {'clean' if not proc.returncode else 'findings above'}")
    if failed:
        say(f"[lint] failed: {', '.join(failed)}")
    return 1 if failed else 0
