"""Processes a boot may leave behind: found by the word that names the boot
on their command line, and killed (UML's and QEMU's alike)."""
from __future__ import annotations

import os
import signal
from pathlib import Path


def sweep(tag: str) -> int:
    """SIGKILL any process whose command line has the word ``tag``
    (``umid=<umid>`` for UML, ``guest=<umid>`` for QEMU)."""
    needle = tag.encode()
    killed = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if needle in argv:
            try:
                os.kill(int(entry.name), signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
    return killed
