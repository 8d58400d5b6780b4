"""Command line: ``python3 -m zsbed <command>``, which the Makefile calls.

One module per command family registers its commands and holds them:
boot_cmds (uml-test, qemu-test, fault, flaky, build, variants),
mutant_cmds (mutants, mutation), compare_cmds (coverage, bench, peer,
pipeline-bench), check_cmds (unit, lint, checkpatch, series-build,
workflow) and ci_cmds (merge, ci-local, summary, ci-container,
test-data); this one puts them together, takes the checkout's lock, and
turns every error into one line.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
from types import FrameType
from typing import IO

from zsbed.cli import boot_cmds, check_cmds, ci_cmds, compare_cmds, crash, mutant_cmds
from zsbed.core import options, paths
from zsbed.core.errors import ZsbedError
from zsbed.core.progress import say

FAMILIES = (boot_cmds, mutant_cmds, compare_cmds, check_cmds, ci_cmds)


def cmd_reference(args: argparse.Namespace) -> int:
    """docs/reference.md, generated."""
    from zsbed.cli import reference

    say(f"[reference] wrote {paths.show(reference.write(parser()))}")
    return 0


def parser() -> argparse.ArgumentParser:
    top = options.Parser(prog="zsbed", description=__doc__.split("\n")[0])
    sub = top.add_subparsers(dest="command", required=True)
    for family in FAMILIES:
        family.register(sub)
    p = sub.add_parser("reference", help="write docs/reference.md from the Makefile and "
                       "these options")
    p.set_defaults(func=cmd_reference)
    return top


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


# Commands that rewrite the patched tree or a build directory.
# (pipeline-bench is not one: it runs make uml-test, which takes the lock.)
EXCLUSIVE = {"uml-test", "qemu-test", "build", "fault", "flaky", "mutants", "mutation", "coverage", "bench",
             "series-build"}


def _lock_tree() -> IO[str]:
    """One zsbed run at a time per checkout: they share work/ and build/."""
    import fcntl

    paths.WORK.mkdir(parents=True, exist_ok=True)
    lock = (paths.WORK / ".lock").open("a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        raise ZsbedError(f"work/.lock: another zsbed run (pid {lock.read().strip() or '?'}) "
                         f"is using this checkout; wait for it") from None
    lock.truncate(0)
    lock.write(f"{os.getpid()}\n")
    lock.flush()
    return lock


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    done: list[int] = []                 # the command's code, once it returned
    try:
        args = parser().parse_args(argv)
        options.check(args)
        held = _lock_tree() if args.command in EXCLUSIVE else None
        try:
            done.append(int(args.func(args)))
            sys.stdout.flush()           # a closed pipe shows here, not at exit
            return done[0]
        finally:
            if held:
                held.close()
    except ZsbedError as exc:
        print(f"zsbed: error: {crash.oneline(str(exc), 1000)}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader of the output (head, less) went away. After the command
        # returned, its code stands; before, it did not finish: 128 + SIGPIPE.
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
        return done[0] if done else 128 + signal.SIGPIPE
    except KeyboardInterrupt:
        print("zsbed: interrupted; no UML or QEMU guest left running, partial results kept; "
              "the next run redoes what was cut short", file=sys.stderr)
        return 130
    except Exception as exc:         # the last line of defence: one line, traceback saved
        return crash.handle(exc, argv)
