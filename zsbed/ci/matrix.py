"""The CI matrix: the jobs GitHub Actions runs side by side, and ``make
ci-local`` runs one after the other.

The jobs come in two tiers. The ``gate`` runs on every push and pull
request and must stay within 10 minutes on a 4-vCPU runner; the ``full``
tier runs on pushes to main, nightly, by hand (workflow_dispatch) and on a
pull request labelled ``full-ci``. ``ci/github/uml-test.yml`` lists each
tier's jobs in its ``gate`` and ``full`` jobs' ``matrix.include`` (``make
workflow`` checks that it does, entry for entry); each runs ``bash
ci/job.sh <make>``. The jobs that leave results upload them, and ``make
merge MATRIX=gate|full`` expects each part of the tiers that ran.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

SHARDS = 3          # how many shards the workflow splits each sharded job into
TIERS = ("gate", "full")


@dataclass(frozen=True)
class Job:
    """One job of the matrix (a sharded one stands for its N shards)."""

    id: str                       # the workflow's matrix.id, the artifact's name
    make: tuple[str, ...]         # what ci/job.sh runs: make targets, then variables
    part: str | None = None       # the results part it leaves (shard.json), if any
    sharded: bool = False         # run as N jobs, SHARD=1/N .. N/N
    tier: str = "full"            # gate | full


JOBS: tuple[Job, ...] = (
    Job("static", ("unit", "lint", "checkpatch", "workflow"), tier="gate"),
    Job("series-build", ("series-build",), tier="gate"),
    Job("uml-test-fast", ("uml-test", "VARIANT=fast"), "uml-test:fast", tier="gate"),
    Job("uml-test-deep", ("uml-test", "VARIANT=deep"), "uml-test:deep", tier="gate"),
    Job("fault", ("fault",), "fault", tier="gate"),
    Job("uml-test-classbits", ("uml-test", "VARIANT=classbits"), "uml-test:classbits"),
    Job("coverage", ("coverage",), "coverage"),
    Job("peer", ("peer",), "peer"),
    Job("mutants", ("mutants",), "mutants", sharded=True),
    Job("mutation", ("mutation", "SAMPLE=30", "SEED=1"), "mutation", sharded=True),
)


def _tiers(tier: str | None) -> tuple[str, ...]:
    """The tiers a run of ``tier`` holds: the full tier runs beside the gate."""
    return ("gate",) if tier == "gate" else TIERS


def expand(n: int = SHARDS, tier: str | None = None, only: bool = False) -> list[Job]:
    """The matrix's jobs (of ``tier`` and the tiers below it; ``only``: of
    ``tier`` alone), each sharded one as its ``n`` shards."""
    tiers = (tier,) if only and tier else _tiers(tier)
    out: list[Job] = []
    for job in (j for j in JOBS if j.tier in tiers):
        if not job.sharded:
            out.append(job)
            continue
        out += [replace(job, id=f"{job.id}-{i}of{n}", make=(*job.make, f"SHARD={i}/{n}"))
                for i in range(1, n + 1)]
    return out


def parts(tier: str | None = None) -> list[str]:
    """The results parts a run of ``tier`` (default: both) leaves, in order."""
    return [job.part for job in JOBS if job.part and job.tier in _tiers(tier)]
