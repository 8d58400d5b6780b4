"""Where UML maps its memory: a directory it can mmap PROT_EXEC, with room.

UML backs its physical memory with an unlinked file in ``$TMPDIR`` (else
``$TMP``, ``$TEMP``), else in ``/dev/shm`` or ``/tmp`` when they are tmpfs,
and exits at boot when that directory is mounted ``noexec`` ("... must be
not mounted noexec"). Docker mounts a container's ``/dev/shm`` noexec
(64 MiB unless ``--shm-size``), so a UML in a GitHub job container cannot
start there. Before the first boot zsbed picks the directory itself: the
first of those that takes an executable mapping and has room for the
boot's memory (``$TMPDIR`` when it works, then tmpfs first), and hands it
to UML as ``TMPDIR``. When none
does, one line says what each candidate lacked and how to make one.
"""
from __future__ import annotations

import functools
import mmap
import os
import tempfile
from pathlib import Path

from zsbed.core.errors import ZsbedError

CANDIDATES = ("/dev/shm", "/tmp")
ENV = ("TMPDIR", "TMP", "TEMP")        # UML's order: the first one set wins
FIX = ("mount an exec tmpfs and point TMPDIR at it "
       "(mount -t tmpfs -o size=1g,exec tmpfs /mnt/uml; export TMPDIR=/mnt/uml), "
       "or run the container with --ipc=host or an exec tmpfs")


def fs_type(path: Path) -> str:
    """The type of the file system ``path`` is on (``/proc/self/mountinfo``)."""
    best, kind = "", ""
    target = os.path.realpath(path)
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return ""
    for line in lines:
        left, _, right = line.partition(" - ")
        fields = left.split()
        point = fields[4].replace("\\040", " ") if len(fields) > 4 else ""
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, (right.split() or [""])[0]
    return kind


def problem(path: Path, need: int) -> str:
    """Why UML cannot keep ``need`` bytes of memory in ``path``, or ''."""
    if not path.is_dir():
        return "no such directory"
    try:
        st = os.statvfs(path)
    except OSError as exc:
        return exc.strerror or str(exc)
    if st.f_bavail * st.f_frsize < need:
        return f"{st.f_bavail * st.f_frsize >> 20} MiB free, the boot needs {need >> 20} MiB"
    try:
        f = tempfile.TemporaryFile(dir=path)
    except OSError as exc:
        return f"cannot create a file there ({exc.strerror or exc})"
    with f:
        try:
            f.truncate(mmap.PAGESIZE)
            prot = mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC
            mmap.mmap(f.fileno(), mmap.PAGESIZE, flags=mmap.MAP_PRIVATE, prot=prot).close()
        except PermissionError:
            return "mounted noexec (an executable mapping was refused)"
        except OSError as exc:
            return exc.strerror or str(exc)
    return ""


def candidates(environ: dict[str, str] | os._Environ[str]) -> list[tuple[str, Path]]:
    """(what names it, directory), in the order UML itself would look."""
    named = [(var, Path(environ[var])) for var in ENV if environ.get(var)]
    return named[:1] + [(d, Path(d)) for d in CANDIDATES]


@functools.lru_cache(maxsize=None)
def choose(need: int) -> Path:
    """The directory UML's memory goes in (its ``TMPDIR``), for ``need`` bytes."""
    tried: list[str] = []
    usable: list[Path] = []
    for name, path in candidates(os.environ):
        why = problem(path, need)
        if why:
            tried.append(f"{name}={path}: {why}" if name in ENV else f"{name}: {why}")
            continue
        if name in ENV or fs_type(path) == "tmpfs":
            return path           # a directory the user named wins, as in UML
        usable.append(path)
    if usable:
        return usable[0]          # works, but UML's memory is then written back to disk
    raise ZsbedError(f"no directory for UML's memory ({'; '.join(tried)}): {FIX}")


def env(need: int) -> dict[str, str]:
    """UML's environment: ours, with ``TMPDIR`` the chosen directory."""
    return {**os.environ, "TMPDIR": str(choose(need))}
