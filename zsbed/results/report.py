"""Stage 8, report: results/<run-id>/ and the pytest view of the cases.

Every case becomes a pytest test (``pytest -k`` selects, JUnit XML is
pytest's own). ``summary.json`` lists what pytest ran, with the outcome,
duration, variant and kernel of each test. ``results/latest`` points at the
newest run.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zsbed.core import mdtable
from zsbed.verdict.outcome import BAD, OUTCOMES, reported
from zsbed.core import disk, paths
from zsbed.plan.parse import Case

CASES = "cases.json"
_current: list[Path] = []       # the runs this process created, newest last


@dataclass(frozen=True)
class RunInfo:
    """What every result of a run records."""

    variant: str
    kernel: str


def new_run(variant: str) -> Path:
    """Create results/<run-id>/ and point results/latest at it."""
    run_id = time.strftime("%Y%m%d-%H%M%S") + f"-{variant}"
    run = paths.RESULTS / run_id
    suffix = 1
    while run.exists():
        suffix += 1
        run = paths.RESULTS / f"{run_id}.{suffix}"
    latest = paths.RESULTS / "latest"
    tmp = paths.RESULTS / f".latest.{os.getpid()}"
    with disk.writing(run):
        run.mkdir(parents=True)
        _current.append(run)
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(run.name)
        tmp.replace(latest)
    return run


def current_run() -> Path | None:
    """The newest results directory this process created, if any."""
    return _current[-1] if _current else None


def write_cases(run: Path, info: RunInfo, cases: list[Case]) -> Path:
    """Save the parsed cases; the pytest plugin reads them back."""
    out = run / CASES
    disk.write_json(out, {"variant": info.variant, "kernel": info.kernel,
                          "cases": [c.to_json() for c in cases]})
    return out


def load_cases(path: Path) -> tuple[RunInfo, list[Case]]:
    """Inverse of write_cases."""
    data = json.loads(path.read_text())
    return (RunInfo(variant=data["variant"], kernel=data["kernel"]),
            [Case(**c) for c in data["cases"]])


def summary_entry(case: Case, info: RunInfo, pytest_outcome: str) -> dict[str, Any]:
    """One summary.json entry: pytest's verdict, refined to 'error' for crashes."""
    return {"name": case.name, "outcome": reported(case.outcome, pytest_outcome), "duration": case.duration,
            "variant": info.variant, "kernel": info.kernel, "message": case.message}


def write_summary(run: Path, entries: list[dict[str, Any]]) -> Path:
    out = run / "summary.json"
    counts = {str(k): sum(e["outcome"] == k for e in entries) for k in OUTCOMES}
    disk.write_json(out, {"counts": counts, "tests": entries})
    return out


# Tables a run may have written, shown after the counts on a CI run's page.
TABLES = ("merge.md", "mutants.md", "flaky.md", "coverage/sites.md", "peer/peer.md",
          "mutation/survivors.md", "ci-container.md")


def step_summary(run: Path) -> str:
    """A run as Markdown for a CI run's page ($GITHUB_STEP_SUMMARY): its
    counts, its first failure (which test, of which boot, and why), and the
    tables it wrote (kills, coverage sites, shards)."""
    import json

    name = run.resolve().name
    try:
        data = json.loads((run / "summary.json").read_text())
    except (OSError, ValueError):
        return f"### zsbed `{name}`\n\nno summary.json: the run ended before its tests\n"
    counts = data.get("counts", {})
    lines = [f"### zsbed `{name}`", "",
             *mdtable.table(list(OUTCOMES), [[counts.get(k, 0) for k in OUTCOMES]],
                            right=range(len(OUTCOMES))), ""]
    bad = [t for t in data.get("tests", []) if t.get("outcome") in BAD]
    if bad:
        first = bad[0]
        where = ", ".join(f"{k} `{first[k]}`" for k in ("part", "variant") if first.get(k))
        message = " ".join(str(first.get("message") or "").split())[:500]
        lines += [f"**First failure**: `{first['name']}`" + (f" ({where})" if where else ""),
                  "", f"> {message or '(no message)'}", ""]
        if len(bad) > 1:
            lines += [f"and {len(bad) - 1} more failed: "
                      + ", ".join(f"`{t['name']}`" for t in bad[1:11])
                      + (" ..." if len(bad) > 11 else ""), ""]
    for table in TABLES:
        if (run / table).is_file():
            lines += [f"#### {table}", "", (run / table).read_text().strip(), ""]
    return "\n".join(lines) + "\n"


def nothing_ran(run: Path, why: str) -> int:
    """A run with nothing to boot (an empty shard): an empty summary, exit 0."""
    from zsbed.core.progress import say

    write_summary(run, [])
    say(f"{why}: nothing to run; results: {paths.show(run)}")
    return 0


def pytest_args(run: Path, extra: list[str]) -> list[str]:
    """Arguments for pytest.main() to expose ``run``'s cases as tests."""
    # the rest of pytest's settings are pyproject.toml's
    return [str(run / CASES), "-p", "zsbed.results.pytest_plugin", "--rootdir", str(paths.REPO),
            "-c", str(paths.REPO / "pyproject.toml"), f"--junitxml={run / 'junit.xml'}", *extra]


def run_pytest(run: Path, extra: list[str]) -> int:
    """pytest over ``run``'s cases; its exit code. A full disk while pytest
    writes junit.xml (or the plugin summary.json) is one line naming ``run``."""
    import pytest

    from zsbed.core.errors import ZsbedError

    try:
        with disk.writing(run):
            return int(pytest.main(pytest_args(run, extra)))
    except ZsbedError:
        print(flush=True)        # pytest's progress line ends here, not in the error line
        raise


def save_test_data(runs: list[Path], out_dir: Path) -> list[str]:
    """Refresh the unit tests' saved data from real runs (``make test-data``).

    ``case-ids.json``: the case ids of each plan run (by variant) and of each
    fault scenario, so that the unit tests can hold mutants, skip lists and
    the plan to the cases that really exist. ``boot-default.log``: the
    console of the ``fast`` plan boot, with this checkout's path replaced.
    Returns what was written.
    """
    from zsbed.core.errors import ZsbedError

    plan: dict[str, list[str]] = {}
    scenarios: dict[str, list[str]] = {}
    console: Path | None = None
    for run in runs:
        if not (run / CASES).is_file():
            raise ZsbedError(f"{paths.show(run)}: no {CASES} (not a results directory)")
        info, cases = load_cases(run / CASES)
        names = sorted(c.name for c in cases)
        if any(n.startswith("selftests.") for n in names):
            plan[info.variant] = names
            if info.variant == "fast":
                console = run / "dmesg" / "main.log"
        for n in names:
            boot = n.removeprefix("boot.").removeprefix("dmesg.")
            if boot.startswith("fault."):
                scenarios.setdefault(boot.split(".")[1], []).append(n)
    # A plan or scenario none of these runs booted (the x86_64 guests' need
    # QEMU) keeps the ids of the run that last saved it: said, not dropped.
    kept: list[str] = []
    old_file = out_dir / "case-ids.json"
    if old_file.is_file():
        old = json.loads(old_file.read_text())
        for part, new in (("plan", plan), ("scenarios", scenarios)):
            for name, ids in old.get(part, {}).items():
                if name not in new:
                    new[name] = ids
                    kept.append(name)
    data = {"plan": plan, "scenarios": {k: sorted(v) for k, v in sorted(scenarios.items())}}
    disk.write_json(out_dir / "case-ids.json", data)
    written = ["case-ids.json" + (f" (kept from before: {', '.join(kept)})" if kept else "")]
    if console and console.is_file():
        text = console.read_text(errors="replace").replace(str(paths.REPO), "<repo>")
        disk.write_text(out_dir / "boot-default.log", text)
        written.append("boot-default.log")
    return written
