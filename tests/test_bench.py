"""make bench's own logic: kernels' patches, settings, samples from saved output."""
from __future__ import annotations

from pathlib import Path

import pytest

from zsbed.bench import bench, bench_report
from zsbed.machine import qemu
from zsbed.core.errors import ZsbedError
from zsbed.plan.program import Program
from zsbed.kernel.target import QEMU, UML

DEFERRED = ("# deferred zram0 pending 0 capacity 32768 queued 30000 drained 30000 "
            "fallback_contended 1536 fallback_full 34000 drain_runs 3\n")


def test_kernels_differ_only_in_patches() -> None:
    k = bench.kernel_patches(None)
    assert k["fallback"] == []
    assert [p.name for p in k["classbits"]] == [p.name for p in k["deferred"]][-1:]
    assert len(k["deferred"]) > 1
    with pytest.raises(ZsbedError, match="'deferred' would equal 'classbits'"):
        bench.kernel_patches("none")


def test_qemu_kernels_mirror_uml() -> None:
    k = bench.kernel_patches(None, QEMU)
    assert [bench.CLASSBITS_PATCH in p.name for p in k["fallback"]] == [True, False]
    assert bench.NO_CLASSBITS_PATCH in k["fallback"][1].name
    assert k["classbits"] == k["fallback"][:1] == k["deferred"][-1:]
    assert len(k["deferred"]) > 2
    fb = bench.fragments("fallback", QEMU)
    assert [f.name for f in fb] == ["bench.config", "base.config", "bench-fallback.config"]
    assert all(f.is_file() for f in fb)
    assert "CONFIG_ZSMALLOC_UML_CLASS_BITS" not in "".join(
        f.read_text() for f in bench.fragments("deferred", QEMU))
    assert [f.name for f in bench.fragments("deferred")] == ["bench.config", "classbits.config"]


def test_qemu_bench_refuses_tcg_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZSBED_ACCEL", "tcg")
    with pytest.raises(ZsbedError, match=r"refused under TCG \(ACCEL=tcg\)") as e:
        bench.precheck(QEMU)
    assert "\n" not in str(e.value)
    monkeypatch.delenv("ZSBED_ACCEL")
    monkeypatch.setattr(qemu, "kvm_unusable", lambda: "no /dev/kvm")
    with pytest.raises(ZsbedError, match=r"refused under TCG \(no /dev/kvm\)"):
        bench.precheck(QEMU)
    bench.precheck(UML)                     # UML needs no KVM
    monkeypatch.setattr(qemu, "kvm_unusable", lambda: "")
    monkeypatch.setattr(qemu, "host_note", lambda: "")
    bench.precheck(QEMU)                    # may work: the probe decides after the build
    with pytest.raises(ZsbedError, match="refused under TCG"):
        bench.refuse_tcg(qemu.tcg("a probe boot under KVM failed"))
    bench.refuse_tcg(qemu.kvm("probed"))


def test_settings() -> None:
    full, quick = bench.settings(False, None, None), bench.settings(True, None, None)
    assert (full.mib, full.rounds, quick.mib, quick.rounds) == (256, 5, 32, 3)
    assert full.mem == "mem=2304M"          # 4 x 256 MiB mapped at once, twice over
    with pytest.raises(ZsbedError, match="must be positive"):
        bench.settings(False, 0, None)


def test_samples_from_saved_output(tmp_path: Path, data: Path) -> None:
    text = (data / "bench-munmap-n1.ktap").read_text()
    (tmp_path / "bench.munmap.n1.ktap").write_text(text + DEFERRED)
    (tmp_path / "bench.exit.n1.ktap").write_text("TAP version 13\n# bench release_ms 3.0\n")
    progs = [Program("bench.munmap.n1", ("b",)), Program("bench.exit.n1", ("b",)),
             Program("bench.exit.n2", ("b",))]
    (s,) = bench.samples(tmp_path, 2, "deferred", progs)    # incomplete and missing: left out
    assert (s["round"], s["kernel"], s["mode"], s["procs"]) == (2, "deferred", "munmap", 1)
    assert s["release_ms"] > 0 and s["drain_ms"] >= s["release_ms"]
    assert (s["queued"], s["fallback_full"], s["fallback_contended"]) == (30000, 34000, 1536)
    data_ = {"modes": ["munmap"], "procs": [1], "samples": [s, {**s, "queued": 20000}]}
    split = bench_report.queue_split(data_)
    assert split[("munmap", 1)]["queued"].median == 25000
    assert "fallback: queue full" in "\n".join(bench_report._queue_table(data_))


def test_queue_counters_absent_on_other_kernels() -> None:
    assert bench.queue_counters("# bench release_ms 1.0\n") == {}
