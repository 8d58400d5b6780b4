"""The x86_64 guest: its variants, its command line, and the accelerator
probe, which must pick KVM only when a boot under KVM really got somewhere.
QEMU itself is replaced by small scripts that print what a real one did."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from zsbed.kernel import build, configure, target
from zsbed.machine import boot, qemu
from zsbed.plan import fault
from zsbed.core.errors import ZsbedError

REPO = Path(__file__).resolve().parent.parent


def test_variants_know_their_target() -> None:
    assert target.of("fast") is target.UML and target.of("x86-kcsan") is target.QEMU
    assert {"x86-fast", "x86-kcsan", "x86-fallback"} <= set(configure.variants("qemu"))
    assert not set(configure.variants("qemu")) & set(configure.variants("uml"))
    frags = [f.relative_to(REPO).as_posix() for f in configure.fragments("x86-kcsan")]
    assert frags == ["uml-config/base.config", "uml-config/x86_64/base.config",
                     "uml-config/x86_64/x86-kcsan.config"]
    kernel = build.Kernel(Path("/b/x86-fast"), "x86-fast")
    assert kernel.linux == Path("/b/x86-fast/arch/x86/boot/bzImage")
    assert build.Kernel(Path("/b/fast"), "fast").linux == Path("/b/fast/linux")


def test_uml_only_options_are_not_required_of_the_guest() -> None:
    only = configure.uml_only()
    assert {"HOSTFS", "SSL", "CON_CHAN"} <= only and "ZRAM" not in only
    wanted = configure.requested(REPO / "work" / "linux-7.3",
                                 configure.fragments("x86-fast")) if (
        REPO / "work" / "linux-7.3" / "tools").is_dir() else None
    if wanted is not None:
        assert "HOSTFS" in wanted       # merged ...
    # ... and configure() drops them from what must survive (arch != um)


def test_every_variant_states_its_lookup_mode() -> None:
    """The main boot proves ZS_OBJ_CLASS_BITS from the guest's KUnit output."""
    for v in configure.variants():
        expects = configure.variant_expects(v)
        assert [e[0] for e in expects] == ["zsmalloc.class_bits"], v
        native = v in ("classbits", "coverage-classbits", "x86-fast", "x86-kcsan")
        assert expects[0][1:] == (("min", 1) if native else ("eq", 0)), v


def test_bad_expect_directive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(configure.paths, "UML_CONFIG", tmp_path)
    (tmp_path / "base.config").write_text("CONFIG_ZRAM=y\n")
    (tmp_path / "v.config").write_text("# zsbed-expect: zsmalloc.class_bits > 0\n")
    with pytest.raises(ZsbedError, match=r"v.config:1: zsbed-expect takes"):
        configure.variant_meta("v")
    (tmp_path / "v.config").write_text("# zsbed-expect: a min 1\n# zsbed-expect: b eq 0\n")
    assert configure.variant_expects("v") == [("a", "min", 1), ("b", "eq", 0)]


def test_boot_command_line(tmp_path: Path) -> None:
    out = tmp_path / "a,b" / "ktap"
    argv = qemu.boot_args(Path("/k/bzImage"), qemu.tcg("test"), "zsbed-1-main-2",
                          Path("/g/zsbed-init"), out, ["slub_debug=FZP", "--", "/p", str(out)])
    assert argv[0] == "qemu-system-x86_64" and "-no-reboot" in argv
    assert argv[argv.index("-accel") + 1] == "tcg,thread=multi"
    assert argv[argv.index("-smp") + 1] == "2"
    assert argv[argv.index("-name") + 1] == "guest=zsbed-1-main-2"
    shares = [argv[i + 1] for i, a in enumerate(argv) if a == "-fsdev"]
    assert shares[0].startswith("local,id=root,path=/,") and "readonly=on" in shares[0]
    assert f"path={tmp_path}/a,,b/ktap," in shares[1]          # a comma, escaped
    append = argv[argv.index("-append") + 1].split()
    assert append[:2] == ["console=ttyS0", f"root={qemu.ROOT_TAG}"]
    assert "init=/g/zsbed-init" in append and "zsbed_machine=qemu" in append
    assert append[-4:] == ["slub_debug=FZP", "--", "/p", str(out)]


def test_mem_sizes_the_guest_instead_of_limiting_its_kernel() -> None:
    argv = qemu.boot_args(Path("/k/bzImage"), qemu.tcg("test"), "t", Path("/g/i"), Path("/o"),
                          ["mem=2304M", "--", "/p", "mem=1"])
    assert argv[argv.index("-m") + 1] == "2304M"
    append = argv[argv.index("-append") + 1].split()
    assert "mem=2304M" not in append and append[-3:] == ["--", "/p", "mem=1"]
    plain = qemu.boot_args(Path("/k"), qemu.tcg("t"), "t", Path("/g/i"), Path("/o"), [])
    assert plain[plain.index("-m") + 1] == qemu.MACHINE.memory


def test_the_sweep_finds_a_qemu_boot_by_its_name(tmp_path: Path) -> None:
    kernel = build.Kernel(Path("/b/x86-fast"), "x86-fast")
    os.environ["ZSBED_ACCEL"] = "tcg"
    try:
        argv, tag = boot.command(kernel, "zsbed-9-main-1", Path("/g/init"), [], Path("/p"),
                                 Path("/o"))
    finally:
        del os.environ["ZSBED_ACCEL"]
    assert tag == "guest=zsbed-9-main-1" and tag in argv
    (tmp_path / ".config").write_text("CONFIG_SMP=y\n")
    argv, tag = boot.command(build.Kernel(tmp_path, "fast"), "u1", Path("/g/init"), [],
                             Path("/p"), Path("/o"))
    assert tag == "umid=u1" and tag in argv and argv[-3:] == ["--", "/p", "/o"]


def _fake_qemu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    fake = tmp_path / "bin" / qemu.BINARY
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\n" + script)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{fake.parent}:{os.environ['PATH']}")
    monkeypatch.setattr(qemu, "kvm_unusable", lambda: "")
    monkeypatch.setattr(qemu, "host_note", lambda: "")
    monkeypatch.setattr(qemu, "PROBE_TIMEOUT", 3.0)


def test_probe_takes_kvm_when_the_guest_got_to_its_root_mount(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_qemu(tmp_path, monkeypatch,
               "echo 'Kernel panic - not syncing: VFS: Unable to mount root fs'\n")
    found = qemu.probe(tmp_path / "bzImage")
    assert found.accel.name == "kvm" and "reached the root mount" in found.accel.why
    assert found.lasting


def test_probe_falls_back_to_tcg_on_an_emulation_failure(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # what this machine's KVM does: it reports and then stops, without exiting
    _fake_qemu(tmp_path, monkeypatch,
               "echo 'KVM internal error. Suberror: 1'\necho 'emulation failure'\nsleep 30\n")
    found = qemu.probe(tmp_path / "bzImage")
    assert found.accel.name == "tcg" and "KVM internal error. Suberror: 1" in found.accel.why
    assert found.accel.args == qemu.TCG_ARGS and found.lasting


def test_probe_falls_back_to_tcg_on_silence(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_qemu(tmp_path, monkeypatch, "sleep 30\n")
    found = qemu.probe(tmp_path / "bzImage")
    assert found.accel.name == "tcg" and "did not reach the root mount in 3s" in found.accel.why
    assert not found.lasting            # perhaps only a loaded host: ask again next run


def test_probe_reports_an_early_exit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_qemu(tmp_path, monkeypatch, "echo 'qemu: could not load kernel'\nexit 1\n")
    found = qemu.probe(tmp_path / "bzImage")
    assert found.accel.why == "a probe boot under KVM exited with status 1 (qemu: could not load kernel)"


def test_the_probe_leaves_no_qemu_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A KVM that failed stops the guest without exiting: the probe kills it."""
    _fake_qemu(tmp_path, monkeypatch, "echo 'KVM internal error. Suberror: 1'\nexec sleep 300\n")
    qemu.probe(tmp_path / "bzImage")
    # this process's probes only: another run's tests may probe meanwhile
    mine = f"zsbed-probe-{os.getpid()}-".encode()
    left = [p for p in Path("/proc").iterdir() if p.name.isdigit()
            and mine in _cmdline(p)]
    assert not left


def _cmdline(p: Path) -> bytes:
    try:
        return (p / "cmdline").read_bytes()
    except OSError:
        return b""


def test_no_dev_kvm_is_tcg_without_a_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(qemu, "kvm_unusable", lambda: "no /dev/kvm")
    monkeypatch.setattr(qemu, "host_note", lambda: "")
    found = qemu.probe(Path("/nonexistent"))
    assert found.accel.why == "no /dev/kvm" and not found.lasting


def test_accel_is_forced_or_probed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ZsbedError, match="ACCEL=hvf: must be kvm or tcg"):
        qemu.accel(tmp_path, "hvf")
    assert qemu.accel(tmp_path, "kvm").args == qemu.KVM_ARGS
    image = tmp_path / "bzImage"
    image.write_text("x")
    _fake_qemu(tmp_path, monkeypatch, "sleep 30\n")
    monkeypatch.setattr(qemu, "PROBE_STATE", tmp_path / "accel.json")
    calls: list[Path] = []
    monkeypatch.setattr(qemu, "probe",
                        lambda i: calls.append(i) or qemu.Probe(qemu.tcg("probed"), True))
    monkeypatch.setattr(qemu, "_chosen", {})
    assert qemu.accel(image).why == "probed"
    assert qemu.accel(image).why == "probed" and len(calls) == 1
    monkeypatch.setattr(qemu, "_chosen", {})          # a new run: the kept answer
    assert qemu.accel(image).why == "probed; probed earlier" and len(calls) == 1


def test_guest_variants_take_the_qemu_sizes() -> None:
    from zsbed.plan import plan
    progs = {n: Path(f"/b/{n}") for n in ("zram_swap", "zram_slot_flags", "swap_release",
                                          "leak_scan", "migrate_coherence",
                                          "zram_reset_pending", "zswap_invalidate")}
    real = REPO / "selftests" / "zsmalloc" / "plan.toml"
    argv = {p.name: p.argv for p in plan.load(real, "x86-kcsan", progs)}
    assert argv["selftests.zsmalloc.zram_swap"][1:] == ("-m", "8")
    argv = {p.name: p.argv for p in plan.load(real, "fast", progs)}
    assert argv["selftests.zsmalloc.zram_swap"][1:] == ("-m", "32")


def test_uml_scenario_timeouts_are_not_scaled() -> None:
    """Only the accelerator scales a scenario's timeouts; UML's is 1, deep included."""
    from zsbed.plan import boots
    assert boots.accel_scale(build.Kernel(Path("/b/deep"), "deep")) == 1.0


def test_a_pvm_host_is_probed_once_for_every_image(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Each rebuild is a new image; on a host whose KVM runs no stock kernel
    the answer is the host's, and is not asked again before a reboot."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text("x")
    b.write_text("y")
    _fake_qemu(tmp_path, monkeypatch, "sleep 30\n")
    monkeypatch.setattr(qemu, "host_note", lambda: "; PVM")
    monkeypatch.setattr(qemu, "PROBE_STATE", tmp_path / "accel.json")
    monkeypatch.setattr(qemu, "_chosen", {})
    calls: list[Path] = []
    monkeypatch.setattr(qemu, "probe",
                        lambda i: calls.append(i) or qemu.Probe(qemu.tcg("no KVM; PVM"), True))
    assert qemu.accel(a).name == "tcg" and qemu.accel(b).name == "tcg"
    assert calls == [a]


def test_kcsan_reports() -> None:
    """x86-kcsan: a real console of the unmutated series with sampling raised
    (3 reports, all upstream's zspage bitfield race); any other KCSAN report
    fails the boot."""
    from zsbed.plan import dmesg
    text = (REPO / "tests" / "data" / "kcsan-upstream-races.log").read_text()
    found = dmesg.check(text)
    assert [f.kind for f in found] == ["KCSAN"] * 3 and all(f.benign for f in found)
    other = "[   9.1] BUG: KCSAN: data-race in zs_free / zs_page_migrate\n"
    (f,) = dmesg.check(other)
    assert f.kind == "KCSAN" and not f.benign


def test_kcsan_unknown_origin_bitfield_race() -> None:
    """The same upstream race seen from the reader only (a real console of
    kcsan-free-record-race on the unmutated series): benign while the huge
    bit (bit 0) is unchanged, a failure when it changed or in another
    function, and the mutant's zs_free report never is."""
    from zsbed.plan import dmesg
    text = (REPO / "tests" / "data" / "kcsan-unknown-origin.log").read_text()
    (f,) = dmesg.check(text)
    assert f.kind == "KCSAN" and "unknown origin" not in f.line and f.benign
    (flipped,) = dmesg.check(text.replace("0x8a -> 0x88", "0x8a -> 0x89"))
    assert not flipped.benign
    (elsewhere,) = dmesg.check(text.replace("data-race in zs_obj_read_begin+",
                                            "data-race in zs_free+"))
    assert not elsewhere.benign
    (wide,) = dmesg.check(text.replace("of 1 bytes", "of 8 bytes"))
    assert not wide.benign


def test_x86_only_scenarios_run_under_target_qemu_only() -> None:
    uml = {s.name for s in fault.scenarios()}
    guest = {s.name for s in fault.scenarios(target_name="qemu")}
    assert "kcsan-free-record-race" in guest - uml
    assert fault.elsewhere("uml") == ["kcsan-free-record-race"] and fault.elsewhere("qemu") == []
    (kcsan,) = fault.scenarios("kcsan-free-record-race", "qemu")
    assert fault.variant_for(kcsan, "qemu") == "x86-kcsan"
    with pytest.raises(ZsbedError, match="runs on x86-kcsan, an x86_64 guest; add TARGET=qemu"):
        fault.scenarios("kcsan-free-record-race")


def test_kcsan_mutants_are_selected_by_target() -> None:
    from zsbed.mutants import handwritten as mutants

    uml = {m.name for m in mutants.select(None)}
    guest = {m.name for m in mutants.select(None, "qemu")}
    assert guest == {"kcsan-handle-read-plain"}
    assert not uml & guest
    with pytest.raises(ZsbedError, match="MUTANT=kcsan-handle-read-plain: runs on x86-kcsan; "
                                         "add TARGET=qemu"):
        mutants.select("kcsan-handle-read-plain")
