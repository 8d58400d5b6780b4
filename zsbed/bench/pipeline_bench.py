"""Benchmark of zsbed's own pipeline against its performance targets.

Measures, on this machine, with the real commands a developer runs:
- ``rerun``: ``make uml-test`` again with nothing changed (target <= 60 s,
  and make must not run: the build stamp is checked);
- ``patch-edit``: one patch touching mm/zsmalloc.c changes, then
  ``make uml-test`` (target <= 90 s; only what the patch touches rebuilds);
- ``boot``: N boots of an empty plan, median and max (target: well under 1 s);
- ``cold`` (COLD=1): a fresh clone in a temporary directory, ccache off,
  ``make uml-test`` from nothing: fetch, build, default suite (target <= 6 min).

Results go to ``results/latest/bench/pipeline.json`` and a table on stdout.
"""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from zsbed.core import disk, paths
from zsbed.results import report
from zsbed.machine.boot import boot
from zsbed.kernel.build import Kernel, build_guest
from zsbed.core.errors import ZsbedError
from zsbed.core.progress import say

TARGETS = {"cold": 360.0, "rerun": 60.0, "patch-edit": 90.0, "boot": 1.0}
EDIT = """--- a/mm/zsmalloc.c
+++ b/mm/zsmalloc.c
@@ -1,3 +1,4 @@
+/* zsbed pipeline benchmark: an edit to one patch (%d) */
"""


def _make(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, str]:
    start = time.monotonic()
    proc = subprocess.run(["make", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})})
    took = time.monotonic() - start
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        raise ZsbedError(f"bench: make {' '.join(args)} failed in {cwd}: {tail}")
    return took, proc.stderr


def edited_series(tmp: Path, stamp: int) -> Path:
    """Our series plus one small patch to mm/zsmalloc.c, as a SERIES= dir."""
    src = paths.WORK / "linux-7.3" / "mm" / "zsmalloc.c"
    head = src.read_text().splitlines()[:3]
    body = EDIT % stamp + "".join(f" {line}\n" for line in head)
    series = tmp / "series"
    lines = []
    for line in (paths.PATCHES / "series").read_text().splitlines():
        word = line.split("#", 1)[0].strip()
        if line.startswith("# --- zsbed"):
            lines.append("zz-bench-edit.patch")
            break
        if word:
            shutil.copy(paths.PATCHES / word.split()[0], tmp / word.split()[0])
            lines.append(word)
    else:
        lines.append("zz-bench-edit.patch")
    (tmp / "zz-bench-edit.patch").write_text(body)
    series.write_text("\n".join(lines) + "\n")
    return tmp


def boot_times(n: int) -> list[float]:
    """Wall time of n boots of the default kernel with an empty plan."""
    kernel = Kernel(bdir=paths.BUILD / "fast", variant="fast")
    if not kernel.linux.is_file():
        raise ZsbedError("bench: build/fast/linux missing; run make uml-test first")
    init = build_guest()
    times = []
    with tempfile.TemporaryDirectory(prefix="zsbed-bench-") as tmp:
        plan = Path(tmp) / "plan"
        plan.write_text("")
        for i in range(n):
            b = boot(kernel, init, plan, Path(tmp) / f"b{i}", Path(tmp) / f"b{i}.log",
                     f"bench{i}", 30.0)
            if not b.finished:
                raise ZsbedError(f"bench: empty boot {i} did not power off cleanly")
            times.append(b.seconds)
    return times


def measure(cold: bool, boots: int = 10) -> int:
    """Measure; print a table; write bench/pipeline.json into a new run dir."""
    out: dict[str, Any] = {}
    if cold:
        with tempfile.TemporaryDirectory(prefix="zsbed-cold-") as tmp:
            clone = Path(tmp) / "zsbed"
            subprocess.run(["git", "clone", "-q", str(paths.REPO), str(clone)], check=True)
            say("[bench] cold: fresh clone, ccache disabled, make uml-test")
            out["cold"], _ = _make(["uml-test"], clone, {"CCACHE_DISABLE": "1"})
    say("[bench] warm-up make uml-test")
    _make(["uml-test"], paths.REPO)
    out["rerun"], log = _make(["uml-test"], paths.REPO)
    out["rerun_ran_make"] = "not running make" not in log
    with tempfile.TemporaryDirectory(prefix="zsbed-series-") as tmp:
        series = edited_series(Path(tmp), int(time.time()))
        say("[bench] patch-edit: series with one changed patch to mm/zsmalloc.c")
        out["patch-edit"], log = _make(["uml-test", f"SERIES={series}"], paths.REPO)
    say("[bench] restoring the tree to patches/series")
    _make(["build"], paths.REPO)
    times = boot_times(boots)
    out["boot"] = statistics.median(times)
    out["boot_max"] = max(times)
    out["boot_n"] = len(times)
    run_dir = report.new_run("pipeline-bench")
    with disk.writing(run_dir):
        (run_dir / "bench").mkdir()
    disk.write_json(run_dir / "bench" / "pipeline.json",
                    {"targets": TARGETS, "measured": out, "cpus": os.cpu_count()})
    bad = 0
    print(f"{'measure':12} {'seconds':>9} {'target':>8}")
    for key, target in TARGETS.items():
        if key in out:
            ok = out[key] <= target
            bad += not ok
            print(f"{key:12} {out[key]:9.2f} {target:8.0f} {'ok' if ok else 'OVER'}")
    if out["rerun_ran_make"]:
        print("rerun ran make: the no-change path is broken")
        bad += 1
    print(f"boot: median of {len(times)}, max {out['boot_max']:.2f}s")
    return 1 if bad else 0
