"""checkpatch: the kernel's scripts/checkpatch.pl --strict on every patch.

Runs the fetched tree's own checkpatch over the patches a run would apply
(the series under test, or SERIES=, plus zsbed's instrumentation) and
fails naming each patch that is not clean.
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from zsbed.core.errors import ZsbedError
from zsbed.kernel.fetch import Tree
from zsbed.kernel.patch import Patch, select_patches
from zsbed.core.progress import say


def check_one(tree: Path, patch: Patch) -> tuple[bool, str]:
    """(clean, checkpatch's summary line) for one patch."""
    proc = subprocess.run(
        ["perl", str(tree / "scripts" / "checkpatch.pl"), "--strict", "--no-color",
         "--root", str(tree), "--summary-file", "-"],
        input=patch.text, capture_output=True, text=True, cwd=tree,
        # its SPDX check runs python3: Debian's, which has ply and git
        env={**os.environ, "PATH": "/usr/bin:" + os.environ.get("PATH", "")})
    summary = re.search(r"total: \d+ errors, \d+ warnings, \d+ checks, \d+ lines checked",
                        proc.stdout)
    line = summary.group(0) if summary else (proc.stdout + proc.stderr).strip()[-200:]
    return proc.returncode == 0, line


def checkpatch(tree: Tree, series: str | None) -> int:
    """Stage entry point: 0 when every patch is checkpatch --strict clean."""
    patches = select_patches(series)
    if not patches:
        say("[checkpatch] no patches to check")
        return 0
    dirty = []
    for p in patches:
        clean, line = check_one(tree.path, p)
        print(f"{'ok  ' if clean else 'FAIL'} {p.name}: {line}")
        if not clean:
            dirty.append(p.name)
    if dirty:
        raise ZsbedError(f"checkpatch --strict: not clean: {', '.join(dirty)}")
    return 0
