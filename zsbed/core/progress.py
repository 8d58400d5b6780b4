"""Progress output for long pipeline steps."""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import Iterator


def say(msg: str) -> None:
    """Print one progress line to stderr (stdout is left to pytest)."""
    print(f"zsbed: {msg}", file=sys.stderr, flush=True)


@contextmanager
def step(name: str, what: str) -> Iterator[None]:
    """Announce a pipeline step and report how long it took."""
    say(f"[{name}] {what}")
    start = time.monotonic()
    yield
    say(f"[{name}] done in {time.monotonic() - start:.1f}s")
