"""The mutant generator: each operator on a small C snippet, and nothing
outside the lines the 'series' added."""
from __future__ import annotations

import subprocess
from pathlib import Path

from zsbed.mutants import generate as mutation
from zsbed.results.shard import Shard

BEFORE = """\
static int old_helper(int x)
{
	if (x >= 4)
		return x - 1;
	return 0;
}
""".splitlines()

ADDED = """\
/* a comment with >= 2 and READ_ONCE(x) */
static bool drain(struct q *q, unsigned long h)
{
	unsigned long n;

	if (!spin_trylock(&q->lock))
		return false;
	n = READ_ONCE(q->nr);
	if (n >= q->cap / 2)
		kick(q);
	WRITE_ONCE(q->slots[n], h);
	q->nr = n + 1;
	spin_unlock(&q->lock);
	pr_debug("n >= %d\\n", 3);
	return n << 3 == 8;
}

static void flush(struct q *q)
{
	spin_lock(&q->lock);
	q->nr = 0;
	spin_unlock(&q->lock);
}
""".splitlines()

AFTER = BEFORE + [""] + ADDED


def _gen() -> list[mutation.Mutant]:
    return mutation.generate("mm/x.c", BEFORE, AFTER)


def _ops(line_text: str) -> dict[str, list[str]]:
    n = AFTER.index(line_text) + 1
    out: dict[str, list[str]] = {}
    for m in _gen():
        if m.line == n:
            out.setdefault(m.op, []).append(dict(m.edits)[n])
    return out


def test_only_added_lines_are_mutated() -> None:
    added = set(mutation.added_lines(BEFORE, AFTER))
    assert added == set(range(len(BEFORE) + 1, len(AFTER) + 1))
    muts = _gen()
    assert muts and all(line in added for m in muts for line, _ in m.edits)
    # the comment line and the old function are untouched
    assert not [m for m in muts if m.line == len(BEFORE) + 2]


def test_each_operator() -> None:
    ops = _ops("\tif (n >= q->cap / 2)")
    assert "\tif (n > q->cap / 2)" in ops["relop"]
    assert "\tif (n >= q->cap)" in ops["const"]                    # the / 2 dropped
    assert "\tif (!(n >= q->cap / 2))" in ops["negate"]
    assert _ops("\tq->nr = n + 1;")["const"] == ["\tq->nr = n + 2;", "\tq->nr = n + 0;"]
    assert _ops("\tq->nr = n + 1;")["delete"] == [""]
    assert _ops("\t\treturn false;")["delete"] == [""]
    ret = _ops("\treturn n << 3 == 8;")
    assert "\treturn n << 4 == 8;" in ret["const"] and "\treturn n << 2 == 8;" in ret["const"]
    assert "\treturn n << 3 != 8;" in ret["relop"]
    assert "\treturn n < 3 == 8;" not in ret.get("relop", [])       # << is not a relop
    assert _ops("\tif (!spin_trylock(&q->lock))")["lock"] == \
        ["\tif (!({ spin_lock(&q->lock); 1; }))"]
    assert _ops("\tspin_lock(&q->lock);")["lock"] == ["\t(void)spin_trylock(&q->lock);"]
    assert _ops("\tn = READ_ONCE(q->nr);")["once"] == ["\tn = (q->nr);"]
    assert _ops("\tWRITE_ONCE(q->slots[n], h);")["once"] == ["\t((q->slots[n]) = (h));"]
    # string literals are left alone
    assert "relop" not in _ops('\tpr_debug("n >= %d\\n", 3);')


def test_pairs_and_swaps() -> None:
    muts = _gen()
    lock = AFTER.index("\tspin_lock(&q->lock);") + 1
    pair = [m for m in muts if m.op == "delete-pair"]
    assert [[line for line, _ in m.edits] for m in pair] == [[lock, lock + 2]]
    swap = {m.line: m for m in muts if m.op == "swap"}
    n = AFTER.index("\tWRITE_ONCE(q->slots[n], h);") + 1
    assert dict(swap[n].edits) == {n: "\tq->nr = n + 1;", n + 1: "\tWRITE_ONCE(q->slots[n], h);"}
    assert all(m.data_race == (m.op == "once") for m in muts)
    assert {m.op for m in muts} == set(mutation.OPERATORS)


def test_ids_are_unique_and_patches_apply(tmp_path: Path) -> None:
    muts = _gen()
    assert len({m.id for m in muts}) == len(muts)
    (tmp_path / "mm").mkdir()
    for m in muts[:: max(1, len(muts) // 8)]:
        (tmp_path / "mm" / "x.c").write_text("\n".join(AFTER) + "\n")
        proc = subprocess.run(["patch", "-p1", "--fuzz=0", "-s"], input=m.patch(AFTER),
                              cwd=tmp_path, text=True, capture_output=True)
        assert proc.returncode == 0, (m.id, proc.stdout, proc.stderr)
        got = (tmp_path / "mm" / "x.c").read_text().splitlines()
        assert [i + 1 for i, (a, b) in enumerate(zip(AFTER, got)) if a != b] == \
            [line for line, text in m.edits if text != AFTER[line - 1]]


def test_select_is_a_stable_split_and_a_seeded_sample() -> None:
    muts = _gen()
    shards = [Shard(i, 3).pick(mutation.select(muts), lambda m: m.id) for i in (1, 2, 3)]
    assert sorted(m.id for s in shards for m in s) == sorted(m.id for m in muts)
    assert mutation.select(muts, sample=5, seed=1) == mutation.select(muts, sample=5, seed=1)
    assert len(mutation.select(muts, sample=5, seed=1)) == 5
    assert mutation.select(muts, sample=5, seed=1) != mutation.select(muts, sample=5, seed=2)


def test_in_the_whole_tree_only_the_series_lines_are_mutated() -> None:
    """zsbed's instrumentation, patched in after the series, is never mutated,
    and the series' lines are found at their new numbers."""
    probe = ["#ifdef CONFIG_ZSMALLOC_FAULT_INJECTION",
             "\tif (should_fail(&zs_fail_trylock, 1))", "\t\treturn false;", "#endif"]
    at = AFTER.index("\tif (!spin_trylock(&q->lock))")
    full = AFTER[:at] + probe + AFTER[at:] + ["", "static int zsbed_only(void)", "{",
                                              "\treturn 1 >= 0;", "}"]
    lines = mutation.series_lines(BEFORE, AFTER, full)
    assert [full[n - 1] for n in lines] == AFTER[len(BEFORE):]
    muts = mutation.generate("mm/x.c", BEFORE, full, lines)
    touched = {line for m in muts for line, _ in m.edits}
    assert touched <= set(lines)
    assert not any("should_fail" in full[n - 1] or "zsbed_only" in full[n - 1] for n in touched)
    # the same mutants as on the series alone, shifted past the probe
    alone = {(m.op, m.original, tuple(t for _, t in m.edits)) for m in _gen()}
    assert {(m.op, m.original, tuple(t for _, t in m.edits)) for m in muts} == alone


def test_a_continuation_line_is_not_a_statement() -> None:
    before = ["void f(void)", "{", "}"]
    after = ["void f(void)", "{", "\tclear(z, BIT(A) |", "\t      BIT(B));", "\tif (x)",
             "\t\tgo(z);", "\tdone(z);", "}"]
    ops = {(m.line, m.op) for m in mutation.generate("mm/y.c", before, after)}
    assert (4, "delete") not in ops         # it ends line 3's statement: gone, it won't compile
    assert (6, "delete") in ops and (7, "delete") in ops
    assert (6, "swap") in ops and (4, "swap") not in ops


def test_declarations_are_not_statements() -> None:
    before: list[str] = []
    after = ["void zs_a(struct zs_pool *pool);", "void zs_b(struct zs_pool *pool);",
             "static struct ops o = {", "\t.n = 2,", "};", "static void f(void)", "{",
             "\tzs_a(p);", "\tzs_b(p);", "}"]
    ops = {(m.line, m.op) for m in mutation.generate("include/z.h", before, after)}
    assert not {(1, "delete"), (1, "swap"), (2, "delete")} & ops
    assert (4, "const") in ops
    assert {(8, "delete"), (8, "swap"), (9, "delete")} <= ops


def test_statement_rules_on_kernel_shapes() -> None:
    before: list[str] = []
    after = ["#define TWO(x) \\", "\t((x) == 2)", "int g(int);",
             "static int f(int a, int b)", "{",
             "#ifdef CONFIG_A", "\tif (a) {", "#else", "\tif (b) {", "#endif",
             "\t\tone();", "\t}", "\tif (a &&", "\t    b)", "\t\ttwo();",
             "\tswitch (a) {", "\tcase 1:", "\t\tthree();", "\t}",
             "\tx = y; /* at most 4 < 5 */", "\t*p = 1;", "\treturn 0444 + sizeof(b[0]);", "}",
             "int h(int);", "int k(int);"]
    ops = {(m.line, m.op) for m in mutation.generate("mm/z.c", before, after)}
    assert not [o for o in ops if o[0] in (1, 2, 3, 24, 25)]     # macros and prototypes
    assert {(11, "delete"), (15, "delete"), (18, "delete"), (21, "delete")} <= ops
    assert (20, "relop") not in ops and (20, "const") not in ops  # only in the comment
    assert (22, "const") not in ops               # octal, and an index inside sizeof()
