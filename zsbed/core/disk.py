"""Files that survive a full disk and a kill: the one place that writes
zsbed's state and results, and reads its state back.

- ``write_text`` and ``write_json`` write to a temporary file next to the
  target, flush it to disk and rename it over the target: a reader (the
  next run) sees the old file or the new one, never a part of either.
- ``read_state`` reads a state file (a stamp, the patch state, the fetch
  marker). One that cannot be read or parsed, e.g. truncated by a full
  disk or a kill, is stale: the caller redoes its step, and this says so.
- A full disk (ENOSPC, EDQUOT) is one ``ZsbedError`` naming the path being
  written: ``write_error``, and ``writing(path)`` for a block of writes.
  After a subprocess failed, ``check_full`` raises it when a full disk
  under the paths it wrote (or "No space left on device" in its output)
  is why.
"""
from __future__ import annotations

import errno
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from zsbed.core import paths
from zsbed.core.errors import ZsbedError
from zsbed.core.progress import say

FULL = (errno.ENOSPC, errno.EDQUOT)
# what tools print when a write failed for lack of space
FULL_TEXT = ("No space left on device", "Disk quota exceeded")
# A filesystem with less than this free counts as full when a step that
# wrote to it failed (a failed large write leaves up to its size unused).
MIN_FREE = 1 << 20
# ... and after a boot, which may have used some of it without a failure:
# this little left means a write there failed.
FILLED = 64 << 10


def full_error(path: Path, detail: str = "no space left on device",
               during: str = "") -> ZsbedError:
    """The one line for a full disk: the path being written, and that the disk is full."""
    return ZsbedError(f"{paths.show(path)}: the disk is full ({detail}){during}; "
                      f"free some space and run again")


def write_error(path: Path, exc: OSError) -> ZsbedError:
    """One line for an OS error while writing ``path`` (or the file the
    error names: for a copy, link or rename, its destination)."""
    named = exc.filename2 or exc.filename
    where = Path(os.fsdecode(named)) if named else path
    if exc.errno in FULL:
        return full_error(where, (exc.strerror or "no space left on device").lower())
    return ZsbedError(f"{paths.show(where)}: {exc.strerror or exc}")


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn an OS error raised in the block (a full disk above all) into one
    line naming the file it names, or ``path``."""
    try:
        yield
    except OSError as exc:
        raise write_error(path, exc) from None


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``path`` atomically: a temporary file, fsync, rename."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise write_error(path, exc) from None
        raise


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode())


def write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=1) + "\n")


def read_state(path: Path, stage: str, keys: tuple[str, ...] = ()) -> dict[str, Any] | None:
    """A state file's JSON object, or None when there is none.

    A file that cannot be read, is not a JSON object or lacks one of
    ``keys`` is stale: say so; None, so the caller redoes its step.
    """
    try:
        data = json.loads(path.read_bytes().decode())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:      # JSONDecodeError, UnicodeDecodeError
        why = exc.strerror if isinstance(exc, OSError) else f"{type(exc).__name__}: {exc}"
        _stale(path, stage, why or "?")
        return None
    if not isinstance(data, dict):
        _stale(path, stage, "not a JSON object")
        return None
    missing = [k for k in keys if k not in data]
    if missing:
        _stale(path, stage, f"no '{missing[0]}'")
        return None
    return data


def _stale(path: Path, stage: str, why: str) -> None:
    say(f"[{stage}] {paths.show(path)} cannot be read ({' '.join(why.split())[:120]}): "
        f"treating it as stale, redoing this step")


def free_bytes(path: Path) -> int | None:
    """Bytes free (for this user) on the filesystem under ``path``; 0 when it
    has no free inodes; None when it cannot be told."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        st = os.statvfs(probe)
    except OSError:
        return None
    if st.f_files and not (st.f_ffree if os.geteuid() == 0 else st.f_favail):
        return 0
    return (st.f_bfree if os.geteuid() == 0 else st.f_bavail) * st.f_frsize


def check_full(output: str, *where: Path, during: str = "", below: int = MIN_FREE) -> None:
    """After a step that wrote under ``where`` failed: if a full disk is why,
    raise its one line. Looks at each of ``where`` and the temporary
    directory (compilers write there) for less than ``below`` bytes free,
    then at the step's output."""
    for path in (*where, Path(tempfile.gettempdir())):
        free = free_bytes(path)
        if free is not None and free < below:
            raise full_error(path, f"{free // 1024} KiB free", during)
    said = next((line.strip() for line in output.splitlines()
                 if any(t in line for t in FULL_TEXT)), "")
    if said and where:
        raise full_error(where[0], said[-160:], during)
