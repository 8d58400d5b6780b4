"""The CI matrix: the jobs GitHub Actions runs side by side, and ``make
ci-local`` runs one after the other.

``ci/github/uml-test.yml`` lists the same jobs in its ``test`` job's
``matrix.include`` (``make workflow`` checks that it does, entry for
entry); each runs ``bash ci/job.sh <make>``. The jobs that leave results
upload them, and ``make merge MATRIX=1`` expects each of their parts.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

SHARDS = 3          # how many shards the workflow splits each sharded job into


@dataclass(frozen=True)
class Job:
    """One job of the matrix (a sharded one stands for its N shards)."""

    id: str                       # the workflow's matrix.id, the artifact's name
    make: tuple[str, ...]         # what ci/job.sh runs: make targets, then variables
    part: str | None = None       # the results part it leaves (shard.json), if any
    sharded: bool = False         # run as N jobs, SHARD=1/N .. N/N


JOBS: tuple[Job, ...] = (
    Job("static", ("unit", "checkpatch", "workflow")),
    Job("series-build", ("series-build",)),
    Job("uml-test-fast", ("uml-test", "VARIANT=fast"), "uml-test:fast"),
    Job("uml-test-deep", ("uml-test", "VARIANT=deep"), "uml-test:deep"),
    Job("uml-test-classbits", ("uml-test", "VARIANT=classbits"), "uml-test:classbits"),
    Job("coverage", ("coverage",), "coverage"),
    Job("peer", ("peer",), "peer"),
    Job("fault", ("fault",), "fault", sharded=True),
    Job("mutants", ("mutants",), "mutants", sharded=True),
    Job("mutation", ("mutation", "SAMPLE=30", "SEED=1"), "mutation", sharded=True),
)


def expand(n: int = SHARDS) -> list[Job]:
    """The matrix's jobs, each sharded one as its ``n`` shards."""
    out: list[Job] = []
    for job in JOBS:
        if not job.sharded:
            out.append(job)
            continue
        out += [replace(job, id=f"{job.id}-{i}of{n}", make=(*job.make, f"SHARD={i}/{n}"))
                for i in range(1, n + 1)]
    return out


def parts() -> list[str]:
    """The results parts a whole matrix leaves, in its order."""
    return [job.part for job in JOBS if job.part]
