"""bench.json to bench.md and bench.png: stats, per-round ratios, warnings, errors."""
from __future__ import annotations

import json
import shutil
from collections.abc import Collection
from pathlib import Path
from typing import Any

import pytest

from zsbed.bench import bench_report as br
from zsbed.core.errors import ZsbedError

KERNELS = ["fallback", "classbits", "deferred"]
BASE = {"fallback": 100.0, "classbits": 50.0, "deferred": 20.0}
DRIFT = (0.99, 1.0, 1.01)          # rounds 1..3: a tight 2% spread
# exit, 2 procs: fallback and classbits crafted so that the median of the
# per-round ratios (2.0, 0.8, 1.33 -> 1.33) differs from the ratio of the
# medians (200 / 250 = 0.8); fallback's spread is 150% of its median.
CRAFTED = {("exit", 2, "fallback"): [100.0, 200.0, 400.0],
           ("exit", 2, "classbits"): [50.0, 250.0, 300.0]}


def synthetic(drop: Collection[tuple[int, str, str, int]] = ()) -> dict[str, Any]:
    """3 rounds x 2 modes x procs 1, 2 x 3 kernels; drain = release + 10, cpu = 2 x release."""
    samples = []
    for rnd, drift in enumerate(DRIFT, 1):
        for mode in ("munmap", "exit"):
            for procs in (1, 2):
                for kernel in KERNELS:
                    if (rnd, kernel, mode, procs) in drop:
                        continue
                    crafted = CRAFTED.get((mode, procs, kernel))
                    rel = crafted[rnd - 1] if crafted else BASE[kernel] * procs * drift
                    samples.append({"round": rnd, "kernel": kernel, "mode": mode, "procs": procs,
                                    "release_ms": rel, "release_max_ms": rel * 1.1,
                                    "drain_ms": rel + 10, "cpu_ms": rel * 2})
    return {"machine": "test box, 2 cores", "kernel": "7.3.4 (test)", "mib": 64, "rounds": 3,
            "ncpus": 2, "kernels": KERNELS, "modes": ["munmap", "exit"], "procs": [1, 2],
            "samples": samples}


def _write(tmp: Path, data: Any) -> Path:
    f = tmp / "bench.json"
    f.write_text(json.dumps(data))
    return f


def test_stats() -> None:
    assert br.stats([3.0, 1.0, 2.0]) == br.Stat(median=2.0, lo=1.0, hi=3.0, n=3)
    assert br.stats([4.0, 1.0, 2.0, 10.0]) == br.Stat(median=3.0, lo=1.0, hi=10.0, n=4)
    with pytest.raises(ValueError):
        br.stats([])


def test_cells(tmp_path: Path) -> None:
    c = br.cells(br.load(_write(tmp_path, synthetic())))
    assert len(c) == 2 * 2 * 3
    st = c["munmap", 2, "classbits"]
    assert st["release_ms"].median == pytest.approx(100.0)
    assert (st["release_ms"].lo, st["release_ms"].hi, st["release_ms"].n) == \
        pytest.approx((99.0, 101.0, 3))
    assert st["drain_ms"].median == pytest.approx(110.0)
    assert st["cpu_ms"].hi == pytest.approx(202.0)


def test_ratios_are_per_round_not_ratio_of_medians() -> None:
    data = synthetic()
    r = br.ratios(data)
    c = br.cells(data)
    per_round = r["exit", 2, "fallback/classbits"]
    assert per_round == br.Stat(median=pytest.approx(400 / 300), lo=0.8, hi=2.0, n=3)
    of_medians = (c["exit", 2, "fallback"]["release_ms"].median
                  / c["exit", 2, "classbits"]["release_ms"].median)
    assert of_medians == pytest.approx(0.8)
    assert per_round.median != pytest.approx(of_medians)
    assert r["munmap", 1, "fallback/deferred"].median == pytest.approx(5.0)
    assert r["munmap", 2, "classbits/deferred"].median == pytest.approx(2.5)
    assert {k[2] for k in r} == set(br.SPEEDUPS)
    cpu = br.ratios(data, "cpu_ms", ("deferred/fallback",))
    assert cpu["munmap", 1, "deferred/fallback"].median == pytest.approx(0.2)


def test_missing_samples_are_skipped_and_counted(tmp_path: Path) -> None:
    drop = {(2, "deferred", "munmap", 1)} | {(r, "classbits", "exit", 1) for r in (1, 2, 3)}
    data = br.load(_write(tmp_path, synthetic(drop)))
    c = br.cells(data)
    assert c["munmap", 1, "deferred"]["release_ms"].n == 2
    assert ("exit", 1, "classbits") not in c
    r = br.ratios(data)
    assert r["munmap", 1, "fallback/deferred"].n == 2
    assert r["munmap", 1, "fallback/classbits"].n == 3
    assert ("exit", 1, "fallback/classbits") not in r
    md = br.markdown(data)
    assert "| munmap | 1 | 100.0 (99.0–101.0) | 50.0 (49.5–50.5) | 20.0 (19.8–20.2) [n=2] |" in md
    assert "| 5.00x [5.00–5.00] faster [n=2] |" in md
    assert "| exit | 1 | 100.0 (99.0–101.0) | – | 20.0 (19.8–20.2) | – | – | 5.00x" in md
    assert "32 of 36 runs have a sample." in md
    data["failed_boots"] = ["r1.classbits"]       # bench.py's extra key
    assert "32 of 36 runs have a sample; failed boots: r1.classbits." in br.markdown(data)


def test_spread_warning_for_wide_cell_only() -> None:
    warnings = br.spread_warnings(synthetic())
    assert ("exit, 2 procs, fallback: release_ms spread 150% of the median (n=3): "
            "do not trust small differences") in warnings
    assert all(w.startswith("exit, 2 procs, ") for w in warnings)
    assert not any(w.startswith("munmap") for w in warnings)     # 2% spread
    assert br.spread_warnings(synthetic(), limit=10.0) == []


def test_markdown_tables() -> None:
    md = br.markdown(synthetic())
    assert "test box, 2 cores" in md and "7.3.4 (test)" in md and "64 MiB per process" in md
    assert "3 rounds" in md and "2 CPUs" in md
    assert ("| mode | procs | fallback ms | classbits ms | deferred ms | classbits vs fallback "
            "| deferred vs classbits | deferred vs fallback |") in md
    assert ("| munmap | 1 | 100.0 (99.0–101.0) | 50.0 (49.5–50.5) | 20.0 (19.8–20.2) "
            "| 2.00x [2.00–2.00] faster | 2.50x [2.50–2.50] faster | 5.00x [5.00–5.00] faster |") in md
    assert "| exit | 2 | 200.0 (100.0–400.0) | 250.0 (50.0–300.0) |" in md
    assert "| 1.33x [0.80–2.00] no difference |" in md
    tables = md.split("Table ")
    assert "| munmap | 1 | 110.0 (109.0–111.0) | 60.0 (59.5–60.5) | 30.0 (29.8–30.2) |" in tables[2]
    assert "| munmap | 2 | 400.0 (396.0–404.0) |" in tables[3] and "deferred/fallback" in tables[3]
    assert "| 0.20x [0.20–0.20] |" in tables[3]
    assert "- exit, 2 procs, fallback: release_ms spread 150%" in md


def test_markdown_without_warnings() -> None:
    tight = synthetic()
    for s in tight["samples"]:
        if (s["mode"], s["procs"]) == ("exit", 2):
            s.update(release_ms=100.0, drain_ms=110.0, cpu_ms=200.0)
    assert "- no spread warnings" in br.markdown(tight)


@pytest.mark.parametrize("text, message", [
    ("{", r"bench.json: not JSON: "),
    ("[1, 2]", r"bench.json: not a JSON object"),
    (lambda d: d.pop("rounds"), r"bench.json: missing key 'rounds'"),
    (lambda d: d.update(samples={}), r"bench.json: 'samples' must be a list"),
    (lambda d: d["samples"][3].pop("drain_ms"), r"bench.json: samples\[3\]: missing key 'drain_ms'"),
    (lambda d: d["samples"][0].update(cpu_ms="fast"),
     r"bench.json: samples\[0\].cpu_ms must be a number >= 0, not 'fast'"),
    (lambda d: d["samples"][1].update(kernel="vanilla"),
     r"bench.json: samples\[1\].kernel 'vanilla' is not in 'kernels'"),
    (lambda d: d["samples"].append(dict(d["samples"][0])),
     r"bench.json: samples\[36\]: second sample for round 1, fallback, munmap, 1 procs"),
])
def test_load_errors_are_one_line_naming_the_file(  # type: ignore[no-untyped-def]
        tmp_path: Path, text, message: str) -> None:
    if callable(text):
        data = synthetic()
        text(data)
        text = json.dumps(data)
    f = tmp_path / "bench.json"
    f.write_text(text)
    with pytest.raises(ZsbedError, match=message) as err:
        br.load(f)
    assert "\n" not in str(err.value)


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ZsbedError, match=r"nope.json: cannot read: No such file"):
        br.load(tmp_path / "nope.json")


def test_sample_file(data: Path) -> None:
    bench = br.load(data / "bench-sample.json")
    assert len(bench["samples"]) == 88                     # two failed runs of 90
    r = br.ratios(bench)
    assert r["munmap", 2, "fallback/classbits"].n == 4
    assert r["exit", 4, "fallback/deferred"].n == 4
    assert all(st.median > 1 for st in r.values())         # each step is a speedup
    md = br.markdown(bench)
    assert md.count("| munmap |") == 9 and md.count("| exit |") == 9
    assert md.count("[n=4]") == 11          # 3 + 3 in table 1, 2 in table 2, 3 in table 3


@pytest.mark.skipif(shutil.which("gnuplot") is None, reason="gnuplot not installed")
def test_plot_and_render(tmp_path: Path, data: Path) -> None:
    png = tmp_path / "synthetic.png"
    br.plot(synthetic({(r, "deferred", "exit", 2) for r in (1, 2, 3)}), png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md, png = br.render(data / "bench-sample.json", tmp_path / "out")
    assert (md.name, png.name) == ("bench.md", "bench.png")
    assert md.read_text().startswith("# ") and png.stat().st_size > 1000


def test_plot_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "bin"
    fake.mkdir()
    monkeypatch.setenv("PATH", str(fake))
    with pytest.raises(ZsbedError, match=r"out.png: gnuplot not found"):
        br.plot(synthetic(), tmp_path / "out.png")
    (fake / "gnuplot").write_text("#!/bin/sh\nwhile read -r l; do :; done\necho 'line 1' >&2\n"
                                  "echo '         line 3: unknown terminal type' >&2\nexit 1\n")
    (fake / "gnuplot").chmod(0o755)
    with pytest.raises(ZsbedError, match=r"out.png: gnuplot failed: line 3: unknown terminal type$"):
        br.plot(synthetic(), tmp_path / "out.png")
