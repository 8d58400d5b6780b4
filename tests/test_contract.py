"""The contract tests stay design-agnostic: no private fields (zsbed.contract)."""

from __future__ import annotations

from pathlib import Path

from zsbed.verdict import contract

REPO = Path(__file__).resolve().parent.parent


def _patch(body: str) -> str:
    """A patch adding @body to the KUnit file."""
    lines = "".join(f"+{line}\n" for line in body.splitlines())
    return (f"--- /dev/null\n+++ b/{contract.KUNIT_FILE}\n@@ -0,0 +1 @@\n{lines}"
            "--- a/mm/zsmalloc.c\n+++ b/mm/zsmalloc.c\n@@ -1 +1 @@\n+static int dq;\n")


CLEAN = """
static void zs_test_disable_drain(struct zs_pool *pool)
{
	disable_delayed_work_sync(&pool->deferred.work);
}

/*
 * Contract: a flush frees what was queued before it.
 */
static void zs_test_flush_frees(struct kunit *test)
{
	zs_test_disable_drain(pool);
	zs_free_deferred(pool, handle);
	zs_free_deferred_flush(pool);
	KUNIT_EXPECT_EQ(test, zs_get_total_pages(pool), 0UL);
}
"""


def test_the_real_contract_cases_use_the_public_api_only() -> None:
    paths = sorted((REPO / "patches").glob("00*.patch"))
    source = contract.kunit_source([p.read_text() for p in paths])
    cases = [f.name for f in contract.contract_cases(contract.functions(source))]
    # the two barrier cases state promise 2 (docs/contract.md)
    assert {"zs_test_flush_is_a_barrier", "zs_test_flush_barrier_under_refill"} <= set(cases)
    assert contract.check_patches(paths) == []


def test_a_seam_may_touch_internals() -> None:
    assert contract.problems(contract.kunit_source([_patch(CLEAN)])) == []


def test_a_private_field_in_a_contract_case_is_named() -> None:
    bad = CLEAN.replace("zs_free_deferred_flush(pool);",
                        "zs_free_deferred_flush(pool);\n\tKUNIT_EXPECT_EQ(test, "
                        "pool->deferred.pending, 0U);")
    out = contract.problems(contract.kunit_source([_patch(bad)]))
    assert out == [f"{contract.KUNIT_FILE}: contract case zs_test_flush_frees reaches "
                   "into the deferral's internals: '->deferred' in zs_test_flush_frees"]


def test_a_private_field_through_a_helper_is_named_with_the_path() -> None:
    bad = CLEAN.replace("static void zs_test_disable_drain",
                        """static unsigned int zs_test_pending(struct zs_pool *pool)
{
	struct zs_deferred *dq = &pool->deferred;

	return dq->pending;
}

static void zs_test_disable_drain""").replace(
        "zs_free_deferred_flush(pool);",
        "zs_free_deferred_flush(pool);\n\tKUNIT_EXPECT_EQ(test, zs_test_pending(pool), 0U);")
    out = contract.problems(contract.kunit_source([_patch(bad)]))
    assert out and all("zs_test_flush_frees -> zs_test_pending" in line for line in out)


def test_cases_without_the_mark_are_not_held_to_it() -> None:
    free = CLEAN.replace("Contract: a flush", "A flush").replace(
        "zs_free_deferred_flush(pool);", "dq->pending = 0;")
    assert contract.problems(contract.kunit_source([_patch(free)])) == []
