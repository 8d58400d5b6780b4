"""``make ci-local N=3``: the CI matrix on this machine, and the proof that
splitting it changes nothing.

1. Every job of the matrix (``zsbed/ci/matrix.py``, the jobs of
   ``ci/github/uml-test.yml``), one after the other, through ``ci/job.sh``
   as the workflow runs them; a sharded job as its N shards
   (``SHARD=1/N`` .. ``N/N``). A failing job does not stop the others
   (the workflow's matrix does not fail fast either).
2. ``make merge MATRIX=1`` over the results they left, as the workflow's
   merge job does.
3. The unsharded side: each sharded job once, whole (or, with
   ``RESULTS=``, the whole runs given there instead), merged with the
   results of the jobs that are not sharded (they are the same commands
   either way, so they run once).
4. The two merged results compared case for case: every test of
   ``summary.json`` (part, variant, name) with its outcome, and every row
   of the mutants table with its verdict (``verdict.differences``).

It fails if a job failed, the merge failed, or the two sides differ.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Callable

from zsbed.ci import matrix
from zsbed.core import disk, paths
from zsbed.results import merge, shard
from zsbed.verdict import verdict
from zsbed.core.errors import ZsbedError
from zsbed.core.progress import say

# Runs ``bash ci/job.sh <args>``; its exit code.
Runner = Callable[[list[str]], int]


def job_sh(args: list[str]) -> int:
    """One job as CI runs it; make's variables of ``make ci-local`` itself are
    not passed on (the jobs get exactly the variables their entries name)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    return subprocess.run(["bash", str(paths.REPO / "ci" / "job.sh"), *args],
                          cwd=paths.REPO, env=env).returncode


def latest() -> Path | None:
    link = paths.RESULTS / "latest"
    return link.resolve() if link.is_symlink() else None


def run_job(runner: Runner, args: list[str]) -> tuple[int, Path | None]:
    """Run one job; its exit code and the results directory it made, if any."""
    before = latest()
    code = runner(args)
    after = latest()
    return code, (after if after != before else None)


def merge_job(runner: Runner, dirs: list[Path]) -> tuple[int, Path | None]:
    return run_job(runner, ["merge", "RESULTS=" + " ".join(str(d) for d in dirs), "MATRIX=1"])


def whole_runs(dirs: list[Path]) -> list[Path]:
    """RESULTS= of ci-local: whole (unsharded) runs, checked before any job runs."""
    for d in dirs:
        rec = shard.read(d)
        if rec.shard.count != 1:
            raise ZsbedError(f"RESULTS={d}: shard {rec.shard} of {rec.part}; ci-local compares "
                             f"the shards against whole runs")
    return dirs


def shards(text: str | None) -> int:
    """N= of ci-local (none: the workflow's); a one-line error when it is no count."""
    if text is None or text == "":
        return matrix.SHARDS
    if not text.isdigit() or not 1 <= int(text) <= 99:
        raise ZsbedError(f"N={text}: must be a number of shards from 1 to 99")
    return int(text)


def run_matrix(n: int, given: list[Path], extra: list[str], runner: Runner = job_sh) -> int:
    """The matrix in N shards, merged, compared with the unsharded runs."""
    given = whole_runs(given)
    jobs = matrix.expand(n)
    failed: list[str] = []
    made: list[Path] = []
    for k, job in enumerate(jobs, 1):
        say(f"[ci-local] job {k} of {len(jobs)}: {job.id}: make {' '.join(job.make)}")
        code, out = run_job(runner, [*job.make, *extra])
        if code:
            failed.append(f"job {job.id} failed (exit {code})")
        if job.part and out:
            made.append(out)
    say(f"[ci-local] merge of the {len(made)} results directories of the matrix")
    code, sharded = merge_job(runner, made)
    if code:
        failed.append(f"the merge failed (exit {code})")
    twins = list(given)
    if not given:
        for job in (j for j in matrix.JOBS if j.sharded):
            say(f"[ci-local] unsharded: make {' '.join(job.make)}")
            code, out = run_job(runner, [*job.make, *extra])
            twins += [out] if out else []
    have = {shard.read(d).part for d in twins}
    twins += [d for d in made if shard.read(d).shard.count == 1 and shard.read(d).part not in have]
    say("[ci-local] merge of the unsharded results")
    _, whole = merge_job(runner, twins)
    if sharded is None or whole is None:
        say("[ci-local] FAILED: a merge left no results; nothing to compare")
        return 1
    diffs = verdict.differences(merge.cases(sharded), merge.cases(whole))
    lines = [f"sharded (N={n}): {paths.show(sharded)}", f"unsharded: {paths.show(whole)}"]
    lines += failed + ([f"{len(merge.cases(sharded))} cases and verdicts, equal case for case"]
                       if not diffs else [f"{len(diffs)} cases differ:", *diffs])
    disk.write_text(sharded / "ci-local.md", "".join(f"- {line}\n" for line in lines))
    for line in failed + diffs[:20]:
        say(f"[ci-local] {line}")
    if diffs:
        say(f"[ci-local] FAILED: sharded and unsharded differ in {len(diffs)} cases; "
            f"{paths.show(sharded)}/ci-local.md")
        return 1
    say(f"[ci-local] sharded (N={n}) and unsharded: {len(merge.cases(sharded))} cases and verdicts, "
        f"equal case for case; {paths.show(sharded)}/ci-local.md")
    return 1 if failed else 0
