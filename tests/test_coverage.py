"""The coverage site list: loader errors, locating sites, reading tracefiles."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from zsbed.core import cfunc
from zsbed.coverage import coverage
from zsbed.core.errors import ZsbedError

SRC = """\
static inline void obj_class_get_and_lock(struct zs_pool *pool, unsigned long handle);

#if ZS_OBJ_CLASS_BITS > 0
static inline void obj_class_get_and_lock(struct zs_pool *pool, unsigned long handle,
					 unsigned long *objp)
{
	*classp = pool->size_class[obj_to_class_idx(obj)];
	spin_lock(&(*classp)->lock);
}
#else
static inline void obj_class_get_and_lock(struct zs_pool *pool, unsigned long handle,
					 unsigned long *objp)
{
	read_lock(&pool->lock);
	spin_lock(&(*classp)->lock);
}
#endif

void zs_free(struct zs_pool *pool, unsigned long handle)
{
	read_lock(&pool->lock);
}
"""

SITE = """\
[[site]]
name = "lookup_pool_lock_fallback"
what = "fallback"
file = "mm/zsmalloc.c"
function = "obj_class_get_and_lock"
marker = "read_lock(&pool->lock);"
modes = ["fallback"]
"""


def _tree(tmp_path: Path) -> Path:
    (tmp_path / "mm").mkdir()
    (tmp_path / "mm" / "zsmalloc.c").write_text(SRC)
    return tmp_path


def _site(tmp_path: Path, text: str) -> list[coverage.Site]:
    f = tmp_path / "sites.toml"
    f.write_text(text)
    return coverage.load_sites(f)


def test_sites_found_in_the_right_definition(tmp_path: Path) -> None:
    src = _tree(tmp_path)
    (site,) = _site(tmp_path, SITE)
    assert coverage.locate(site, src) == 14          # the #else body, not zs_free()
    bits = coverage.Site("b", "b", "mm/zsmalloc.c", "obj_class_get_and_lock",
                         "*classp = pool->size_class[", ("classbits",))
    assert coverage.locate(bits, src) == 7
    assert [b for b in cfunc.bodies(SRC, "obj_class_get_and_lock")] == [(4, 9), (11, 16)]


@pytest.mark.parametrize("edit, message", [
    (('function = "obj_class_get_and_lock"', 'function = "nope"'), r"no function nope\(\) in mm/zsmalloc.c"),
    (('marker = "read_lock(&pool->lock);"', 'marker = "gone();"'),
     r"marker 'gone\(\);' not found in obj_class_get_and_lock\(\)"),
])
def test_missing_site_is_one_line(tmp_path: Path, edit: tuple[str, str], message: str) -> None:
    src = _tree(tmp_path)
    (site,) = _site(tmp_path, SITE.replace(*edit))
    with pytest.raises(ZsbedError, match=message) as exc:
        coverage.locate(site, src)
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize("edit, message", [
    (('modes = ["fallback"]', 'modes = ["x86"]'), r"site #1 \(lookup_pool_lock_fallback\): 'modes'"),
    (('file = "mm/zsmalloc.c"', 'file = "mm/slub.c"'), r"file 'mm/slub.c' is not instrumented"),
    (('what = "fallback"\n', ''), r"site #1: 'what' must be a non-empty string"),
    (('name = ', 'nmae = '), r"site #1: unknown key 'nmae'"),
    (('[[site]]', '[[sites]]'), r"expected only \[\[site\]\] entries"),
    (('modes = ["fallback"]', 'modes = ["fallback"'), r"sites.toml: "),
])
def test_malformed_site_list(tmp_path: Path, edit: tuple[str, str], message: str) -> None:
    with pytest.raises(ZsbedError, match=message) as exc:
        _site(tmp_path, SITE.replace(*edit))
    assert "\n" not in str(exc.value)


def test_real_site_list_loads() -> None:
    sites = coverage.load_sites()
    assert {"lookup_pool_lock_fallback", "lookup_class_bits", "async_free_zspage"} <= \
        {s.name for s in sites}


def test_line_counts_and_table(data: Path) -> None:
    trace = json.loads((data / "gcovr-trace.json").read_text())
    counts = coverage.line_counts(trace)
    assert counts["mm/zsmalloc.c"][14] == 7
    assert counts["mm/zsmalloc.c"][7] == 0
    site = coverage.Site("lookup_pool_lock_fallback", "w", "mm/zsmalloc.c",
                         "obj_class_get_and_lock", "read_lock", ("fallback",))
    r = coverage.SiteResult(site, 14, hits={"fallback": 0, "classbits": 3})
    assert r.missing() == ["fallback"]
    table = coverage.site_table([r])
    assert "| **0** | (3) |" in table


def test_forced_site_counts_only_in_its_scenarios(tmp_path: Path, data: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    src = _tree(tmp_path)
    sites = tmp_path / "sites.toml"
    sites.write_text(SITE + 'forced_by = ["trylock-zspage-fail"]\n')
    monkeypatch.setattr(coverage, "SITES", sites)

    def fake_gcovr(args: list[str], what: str) -> None:
        Path(args[args.index("--json-summary") + 1]).write_text('{"files": []}')

    monkeypatch.setattr(coverage, "gcovr", fake_gcovr)
    trace = data / "gcovr-trace.json"
    out = tmp_path / "out"
    T = coverage.Trace
    # hit by KUnit and the plan only: the scenario that should force it did not
    (r,), _ = coverage.report(src, {"fallback": [T("main", "kunit", trace),
                                                 T("main", "selftests.zsmalloc.x", trace)]}, out)
    assert r.hits == {"fallback": 0} and r.missing() == ["fallback"]
    # the scenario's own boot, but not its workload: KUnit-like hits at boot
    (r,), _ = coverage.report(src, {"fallback": [
        T("fault.trylock-zspage-fail", "boot", trace),
        T("fault.trylock-zspage-fail", "fault.trylock-zspage-fail.arm", trace)]}, out)
    assert r.hits == {"fallback": 0}
    (r,), _ = coverage.report(src, {"fallback": [
        T("main", "kunit", trace),
        T("fault.trylock-zspage-fail", "fault.trylock-zspage-fail.1.swap_release", trace)]}, out)
    assert r.hits == {"fallback": 7} and r.first == {
        "fallback": "fault.trylock-zspage-fail: fault.trylock-zspage-fail.1.swap_release"}
    assert json.loads((out / "sites.json").read_text())["sites"][0]["forced_by"] == \
        ["trylock-zspage-fail"]


def test_forced_by_names_a_real_scenario(tmp_path: Path) -> None:
    with pytest.raises(ZsbedError, match=r"forced_by: no fault/nope.toml"):
        _site(tmp_path, SITE + 'forced_by = ["nope"]\n')


def test_phases_in_the_order_they_ran(tmp_path: Path) -> None:
    ktap = tmp_path / "ktap"
    ktap.mkdir()
    (ktap / "plan").write_text("coverage.gcov.0 60 /c\nselftests.zsmalloc.zram_swap 60 /z\n"
                               "coverage.gcov.1 60 /c\nselftests.zsmalloc.compaction_storm 60 /s\n")
    names = ["selftests.zsmalloc.compaction_storm", "kunit", "selftests.zsmalloc.zram_swap"]
    ordered = coverage.in_run_order(ktap, [tmp_path / n for n in names])
    assert [p.name for p in ordered] == ["kunit", "selftests.zsmalloc.zram_swap",
                                         "selftests.zsmalloc.compaction_storm"]
