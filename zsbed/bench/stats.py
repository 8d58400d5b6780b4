"""Intervals for the bench's ratios: a percentile bootstrap over rounds.

A speedup is measured once per round (the kernels of a round ran back to
back), so its rounds are the sample: resampling them with replacement
gives the spread of their median. The seed is fixed, so a report is the
same every time it is rendered from the same bench.json. A ratio whose
interval holds 1 is no difference, whatever its median says.
"""
from __future__ import annotations

import random
import statistics
from dataclasses import dataclass

LEVEL = 0.95
RESAMPLES = 4000
SEED = 1


@dataclass(frozen=True)
class Interval:
    """The median of n per-round values and its bootstrap interval."""

    median: float
    lo: float
    hi: float
    n: int
    level: float = LEVEL

    def holds(self, x: float) -> bool:
        return self.lo <= x <= self.hi


def median_interval(values: list[float], level: float = LEVEL, resamples: int = RESAMPLES,
                    seed: int = SEED) -> Interval:
    """The median of ``values`` with a ``level`` percentile-bootstrap interval."""
    if not values:
        raise ValueError("median_interval() of no values")
    rng = random.Random(seed)
    n = len(values)
    medians = sorted(statistics.median(rng.choices(values, k=n)) for _ in range(resamples))
    tail = (1 - level) / 2
    lo = medians[int(tail * (resamples - 1))]
    hi = medians[int(round((1 - tail) * (resamples - 1)))]
    return Interval(statistics.median(values), lo, hi, n, level)


def speedup_word(iv: Interval) -> str:
    """What a ratio A/B over rounds says: B faster, B slower, or no difference."""
    if iv.holds(1.0):
        return "no difference"
    return "faster" if iv.lo > 1.0 else "slower"
