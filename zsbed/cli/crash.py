"""The CLI's last line of defence: an exception zsbed did not expect.

Bad input and failed stages are ``ZsbedError`` lines and Ctrl-C is an
interrupt; the CLI handles both. Anything else is a bug in zsbed (or an
OS error no stage turned into a ``ZsbedError``): the user sees one line
naming it and where its traceback was saved, ``results/<run>/zsbed-error.log``
(the run this process created, or a new ``<time>-error`` one), or a file
in the temporary directory when results/ cannot be written. A full disk
is said as such, in one line, whatever raised it.
"""
from __future__ import annotations

import os
import sys
import tempfile
import traceback
from pathlib import Path

from zsbed.verdict.outcome import Outcome
from zsbed.core import disk, paths
from zsbed.core.errors import ZsbedError

LOG = "zsbed-error.log"
EXIT = 3            # 2 is a ZsbedError (bad input, failed stage), 130 Ctrl-C


def oneline(text: str, limit: int = 300) -> str:
    """``text`` on one line (white space runs joined), at most ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 3] + "..."


def save(text: str) -> str | None:
    """Save ``text`` as the run's error log; where it went, or None."""
    from zsbed.results import report

    try:
        run = report.current_run() or report.new_run(Outcome.ERROR)
        disk.write_text(run / LOG, text)
        return paths.show(run / LOG)
    except (ZsbedError, OSError):
        pass
    try:
        fd, name = tempfile.mkstemp(prefix="zsbed-error-", suffix=".log")
        with os.fdopen(fd, "w") as out:
            out.write(text)
        return name
    except OSError:
        return None


def handle(exc: BaseException, argv: list[str]) -> int:
    """Print the one line for ``exc``; return the exit code."""
    if isinstance(exc, OSError) and exc.errno in disk.FULL:
        named = exc.filename2 or exc.filename
        where = paths.show(Path(os.fsdecode(named))) if named else "a file it did not name"
        print(f"zsbed: error: {oneline(where)}: the disk is full ({exc.strerror}); "
              f"free some space and run again", file=sys.stderr)
        return 2
    text = (f"zsbed {' '.join(argv)}\n"
            + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    log = save(text)
    saved = f"traceback: {log}" if log else "the traceback could not be saved anywhere"
    print(f"zsbed: internal error: {oneline(f'{type(exc).__name__}: {exc}')} ({saved})",
          file=sys.stderr)
    return EXIT
