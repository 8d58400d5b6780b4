"""SHARD=i/N: a list of independent boots split over N machines.

An entry of the list (a fault scenario, a mutant in one variant, a
coverage boot, a flaky boot) goes to shard ``sha256(entry) mod N + 1``:
the same on every machine and every run, and adding an entry moves no
other one (a round robin over the sorted list would shift every entry
after it). The union of the N shards is the whole list, and no entry is
in two.

Every command that writes a results directory records in it, in
``shard.json``, which shard of what it is: the part (``fault``,
``mutants``, ``coverage``, ``flaky``, ``uml-test:<variant>``), i and N,
the entries it ran, the whole list they were taken from and, once it has
finished, its exit code. An unsharded run is shard 1 of 1. ``make merge``
reads these records (``verdict.shard_problems`` judges them).
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, TypeVar

from zsbed.core import disk, paths
from zsbed.core.errors import ZsbedError

RECORD = "shard.json"
T = TypeVar("T")


def of(entry: str, count: int) -> int:
    """The shard (1..count) that ``entry`` belongs to."""
    return int.from_bytes(hashlib.sha256(entry.encode()).digest()[:8], "big") % count + 1


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count``."""

    index: int = 1
    count: int = 1

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def suffix(self) -> str:
        """What a sharded run adds to its results directory's name."""
        return f"-shard{self.index}of{self.count}" if self.count > 1 else ""

    def holds(self, entry: str) -> bool:
        return of(entry, self.count) == self.index

    def pick(self, items: Iterable[T], name: Callable[[T], str]) -> list[T]:
        """The items whose entry name falls in this shard, in their order."""
        return [item for item in items if self.holds(name(item))]


WHOLE = Shard(1, 1)


def parse(text: str | None) -> Shard:
    """``SHARD=i/N`` (none: the whole list); a one-line error otherwise."""
    if text is None or text == "":
        return WHOLE
    m = re.fullmatch(r"([0-9]{1,6})/([0-9]{1,6})", text)
    if not m:
        raise ZsbedError(f"SHARD={text}: must be i/N, shard i of N (e.g. SHARD=2/3)")
    index, count = int(m.group(1)), int(m.group(2))
    if count < 1:
        raise ZsbedError(f"SHARD={text}: N must be at least 1")
    if not 1 <= index <= count:
        raise ZsbedError(f"SHARD={text}: i must be between 1 and N ({count})")
    return Shard(index, count)


@dataclass(frozen=True)
class Record:
    """What ``shard.json`` says about one results directory."""

    path: Path
    part: str
    shard: Shard
    entries: tuple[str, ...]      # what this shard ran
    whole: tuple[str, ...]        # the list it was taken from
    exit: int | None              # None: it did not finish


def start(run: Path, part: str, shard: Shard, entries: Iterable[str],
          whole: Iterable[str]) -> None:
    """Record, before the first boot, which shard of ``part`` ``run`` holds."""
    disk.write_json(run / RECORD, {"part": part, "shard": shard.index, "of": shard.count,
                                   "entries": list(entries), "all": list(whole),
                                   "exit": None})


def finish(run: Path, code: int) -> int:
    """Record the run's exit code (a run without one did not finish); returns it."""
    data = json.loads((run / RECORD).read_text())
    disk.write_json(run / RECORD, {**data, "exit": int(code)})
    return int(code)


def read(run: Path) -> Record:
    """A results directory's record; one-line errors name the directory."""
    where = paths.show(run / RECORD)
    if not run.is_dir():
        raise ZsbedError(f"{paths.show(run)}: no such directory")
    try:
        data = json.loads((run / RECORD).read_bytes().decode())
    except FileNotFoundError:
        raise ZsbedError(f"{paths.show(run)}: no {RECORD} (not the results directory of a "
                         f"zsbed run that records its shard)") from None
    except (OSError, ValueError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else type(exc).__name__
        raise ZsbedError(f"{where}: cannot be read ({why})") from None
    try:
        shard = Shard(int(data["shard"]), int(data["of"]))
        ok = (1 <= shard.index <= shard.count and isinstance(data["part"], str)
              and all(isinstance(e, str) for e in data["entries"] + data["all"])
              and (data["exit"] is None or isinstance(data["exit"], int)))
    except (KeyError, TypeError, ValueError):
        ok = False
    if not ok:
        raise ZsbedError(f"{where}: not a shard record (part, shard, of, entries, all, exit)")
    return Record(path=run, part=data["part"], shard=shard, entries=tuple(data["entries"]),
                  whole=tuple(data["all"]), exit=data["exit"])
