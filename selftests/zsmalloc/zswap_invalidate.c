// SPDX-License-Identifier: GPL-2.0
/*
 * zswap_invalidate: pages stored in zswap (in front of a zram swap
 * device), then released by munmap, go through zswap_invalidate(), the
 * path the series defers. Then zswap's pool is capped so stores force
 * writeback to the backing device, and the data is read back from both.
 *
 * Checks: the pages really went to zswap; every byte read back matches;
 * zswap's stored pages drop to the baseline at once and its pool size
 * returns within a bound without any flush (time reported); no handle
 * waited for the drain longer than the backstop allows; a survivor that
 * kept its own data in zswap throughout reads it back intact; writeback
 * ran.
 *
 * Each zsmalloc pool the test is about is named on a KTAP line,
 *	# pool zswap <name>	(or zswap-old and zswap-new with -s)
 * so that zsbed's fault scenarios can hold a counter to the right pool.
 *
 *	zswap_invalidate [-m MiB] [-w writeback MiB] [-t ms] [-s compressor] [-x] [-B]
 *			 [-H ms]
 *
 * -B reports the backstop's wait without checking it (see swap_release).
 *
 * -H holds the zswap pool's backstop off for that long
 * (deferred_max_delay_ms): with -s, the old pool is then destroyed with
 * every handle still pending and its drain idle.
 *
 * -x releases the stored pages by exiting instead: a child stores them and
 * exits, and exit_mmap() frees the entries through zswap_invalidate().
 *
 * -s switches zswap to another compressor while pages are stored: zswap
 * makes a new pool, and the old one is destroyed (zs_destroy_pool(), with
 * whatever deferred frees are pending) once munmap has released its last
 * entry. The case old_pool_destroyed checks that it went.
 *
 * The writeback phase caps zswap at 1% of RAM, so -w must exceed that
 * (about 5 MiB with mem=512M) for any page to be written back.
 */
#include <stdbool.h>
#include <sys/wait.h>

#include "kselftest.h"
#include "zram_lib.h"

#define MAX_EXTRA 40

/* Wait until zswap's pool is back to @base bytes; ms, or -1. */
static double wait_zswap_pool(unsigned long long base, double timeout_ms)
{
	double start = now_ms();

	while (zswap_dbg("pool_total_size") > base) {
		if (now_ms() - start > timeout_ms)
			return -1;
		usleep(1000);
	}
	return now_ms() - start;
}

/* What phase 1 saw; in shared memory when a child does it (-x). */
struct stored {
	unsigned long long stored;	/* pages zswap took */
	size_t bad;			/* of the half faulted back, mismatched */
	int pools;			/* zswap pools after the compressor switch */
	int switch_err;
	int map_err;			/* errno of mmap/MADV_PAGEOUT, or 0 */
};

/*
 * Store @pages in zswap, fault half of them back and compare, and switch
 * the compressor if asked. Returns the mapping, still holding the rest.
 */
static void *store_in_zswap(struct stored *r, size_t pages, size_t psz,
			    unsigned long long base_stored, const char *switch_to)
{
	void *mem = map_paged_out(pages, psz, 7);

	if (!mem) {
		r->map_err = errno ? errno : ENOMEM;
		return NULL;
	}
	r->stored = zswap_dbg("stored_pages") - base_stored;
	r->bad = count_bad_pages(mem, pages / 2, psz, 7);
	if (switch_to) {
		r->switch_err = -sysfs_write(ZSWAP_PARAM "compressor", switch_to);
		r->pools = count_zswap_pools();
	}
	return mem;
}

/*
 * Wait up to @timeout_ms for zswap to have written back a page since
 * @base.  zswap's shrink worker is queued by a store refused at the limit,
 * and its first passes only take the "referenced" mark off fresh entries;
 * if the page-out that hit the limit is over before a pass writes back,
 * nothing queues the worker again.  So every 50 ms without writeback,
 * page out another 64 pages (kept in @extra, up to @max regions) to
 * queue it again.  The number of regions used goes to *@used.
 */
static bool wait_writeback(unsigned long long base, double timeout_ms, size_t psz,
			   void **extra, int max, int *used)
{
	double start = now_ms(), last = start;

	*used = 0;
	while (zswap_dbg("written_back_pages") <= base) {
		if (now_ms() - start > timeout_ms)
			return false;
		if (now_ms() - last > 50 && *used < max) {
			extra[*used] = map_paged_out(64, psz, 100 + *used);
			if (extra[*used])
				(*used)++;
			last = now_ms();
		}
		usleep(5000);
	}
	return true;
}

int main(int argc, char **argv)
{
	size_t mib = 16, wb_mib = 16, psz = sysconf(_SC_PAGESIZE), pages, wb_pages, bad;
	unsigned long long base_stored, base_size, base_wb, stored, surv_freed = 0;
	double timeout_ms = 5000, returned, start;
	char pool[NAME_MAX + 1] = "", new_pool[NAME_MAX + 1] = "";
	long long surv_bad = -1;
	const char *switch_to = NULL, *hold = NULL;
	bool by_exit = false, wrote_back, backstop_report_only = false;
	void *extra[MAX_EXTRA];
	int i, nr_extra;
	struct survivor surv;
	struct stored *r;
	int opt, err;
	void *mem;

	while ((opt = getopt(argc, argv, "m:w:t:s:xBH:")) != -1) {
		if (opt == 'm')
			mib = strtoul(optarg, NULL, 0);
		else if (opt == 'w')
			wb_mib = strtoul(optarg, NULL, 0);
		else if (opt == 't')
			timeout_ms = atof(optarg);
		else if (opt == 's')
			switch_to = optarg;
		else if (opt == 'x')
			by_exit = true;
		else if (opt == 'B')
			backstop_report_only = true;
		else if (opt == 'H')
			hold = optarg;
	}
	pages = (mib << 20) / psz;
	wb_pages = (wb_mib << 20) / psz;
	ksft_print_header();
	if (access(ZSWAP_PARAM "enabled", F_OK))
		ksft_exit_skip("no zswap (CONFIG_ZSWAP off?)\n");
	/* -s: old_pool_destroyed instead of backstop_bounded (the pool is gone) */
	ksft_set_plan(8 - (!switch_to && backstop_report_only));

	err = zswap_on_zram_setup(4 * ((mib > wb_mib ? mib : wb_mib) << 20));
	if (err)
		ksft_exit_fail_msg("zswap set-up: %s\n", strerror(-err));
	/* zswap creates its debugfs directory when it is first enabled */
	if (access(ZSWAP_DBG "stored_pages", F_OK))
		ksft_exit_fail_msg("zswap enabled but %s is missing\n", ZSWAP_DBG);
	err = newest_zswap_pool(pool, sizeof(pool));
	if (err)
		ksft_exit_fail_msg("no zswap pool in /sys/kernel/debug/zsmalloc: %s\n",
				   strerror(-err));
	printf("# pool %s %s\n", switch_to ? "zswap-old" : "zswap", pool);
	zs_deferred_reset_observed(pool);
	if (hold) {
		err = zs_deferred_hold(pool, hold);
		if (err)
			ksft_exit_fail_msg("%s: deferred_max_delay_ms: %s\n", pool, strerror(-err));
	}
	/* the survivor's data goes to zswap first, and is part of the baseline */
	err = survivor_start(&surv, pages / 4, psz, 0x77770000ULL);
	if (err)
		ksft_exit_fail_msg("survivor: %s\n", strerror(-err));
	base_stored = zswap_dbg("stored_pages");
	base_size = zswap_dbg("pool_total_size");
	base_wb = zswap_dbg("written_back_pages");

	/* 1. Store in zswap, fault half back, release the rest: munmap or exit. */
	r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED)
		ksft_exit_fail_perror("mmap");
	if (by_exit) {
		pid_t pid = fork();
		int status;

		if (pid < 0)
			ksft_exit_fail_perror("fork");
		if (pid == 0) {
			store_in_zswap(r, pages, psz, base_stored, switch_to);
			_exit(0);	/* exit_mmap() releases the entries */
		}
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
			ksft_exit_fail_msg("the storing child did not exit normally\n");
	} else {
		mem = store_in_zswap(r, pages, psz, base_stored, switch_to);
		if (mem)
			munmap(mem, pages * psz);
	}
	if (r->map_err)
		ksft_exit_fail_msg("mmap/MADV_PAGEOUT: %s\n", strerror(r->map_err));
	ksft_print_msg("zswap stored %llu of %zu pages, released by %s\n", r->stored, pages,
		       by_exit ? "exit" : "munmap");
	ksft_test_result(r->stored >= pages / 10 * 9, "stored_in_zswap\n");
	bad = r->bad;
	if (switch_to) {
		int pools = r->pools;

		ksft_print_msg("compressor -> %s: %s, %d zswap pools\n", switch_to,
			       r->switch_err ? strerror(r->switch_err) : "ok", pools);
		if (!newest_zswap_pool(new_pool, sizeof(new_pool)) && strcmp(new_pool, pool))
			printf("# pool zswap-new %s\n", new_pool);
		/* the old pool goes once its last entry is gone */
		print_all_deferred();
		/*
		 * The survivor's entries are in the old pool too: it reads them
		 * back (zswap drops an entry it loads) while the old pool's
		 * drain runs, and so lets the pool go.
		 */
		stored = zswap_dbg("stored_pages");
		surv_bad = survivor_check(&surv);
		surv_freed = stored - zswap_dbg("stored_pages");
		ksft_print_msg("survivor: %zu pages read while the drain ran, %lld mismatched\n",
			       pages / 4, surv_bad);
		start = now_ms();
		while (count_zswap_pools() >= pools && now_ms() - start < timeout_ms)
			usleep(1000);
		ksft_print_msg("old zswap pool destroyed after %.1f ms (%d pools left)\n",
			       now_ms() - start, count_zswap_pools());
		ksft_print_msg("counter zswap.pools_destroyed %d\n", pools - count_zswap_pools());
		ksft_test_result(pools >= 2 && count_zswap_pools() == pools - 1,
				 "old_pool_destroyed\n");
	}
	munmap(r, sizeof(*r));
	stored = zswap_dbg("stored_pages");
	returned = wait_zswap_pool(base_size, timeout_ms);
	ksft_print_msg("read back %zu pages, %zu mismatched; after the release stored %llu "
		       "(baseline %llu, less %llu the survivor read)\n", pages / 2, bad, stored,
		       base_stored, surv_freed);
	if (returned >= 0)
		ksft_print_msg("pool back to %llu bytes after %.1f ms\n", base_size, returned);
	else
		ksft_print_msg("pool not back to %llu bytes within %.0f ms\n",
			       base_size, timeout_ms);
	ksft_test_result(bad == 0, "data_intact\n");
	ksft_test_result(stored == base_stored - surv_freed && returned >= 0,
			 "invalidate_returns_memory\n");
	if (switch_to) {
		ksft_test_result(surv_bad == 0, "survivor_intact\n");
	} else {
		backstop_case(pool, backstop_report_only);
		surv_bad = survivor_check(&surv);
		ksft_print_msg("survivor: %zu pages read after the drain, %lld mismatched\n",
			       pages / 4, surv_bad);
		ksft_test_result(surv_bad == 0, "survivor_intact\n");
	}
	err = survivor_stop(&surv);
	if (err)
		ksft_print_msg("survivor: %s\n", strerror(-err));

	/* 2. Cap the pool: stores beyond it make zswap write back to zram. */
	sysfs_write(ZSWAP_PARAM "max_pool_percent", "1");
	mem = map_paged_out(wb_pages, psz, 8);
	if (!mem)
		ksft_exit_fail_perror("mmap/MADV_PAGEOUT");
	/* the shrink worker runs asynchronously: give it up to 5 s */
	wrote_back = wait_writeback(base_wb, 5000, psz, extra, MAX_EXTRA, &nr_extra);
	bad = count_bad_pages(mem, wb_pages, psz, 8);
	ksft_print_msg("written back %llu pages (%d extra page-outs to requeue the shrink "
		       "worker); read back %zu, %zu mismatched; pool limit hit %llu times\n",
		       zswap_dbg("written_back_pages") - base_wb, nr_extra, wb_pages, bad,
		       zswap_dbg("pool_limit_hit"));
	for (i = 0; i < nr_extra; i++) {
		if (count_bad_pages(extra[i], 64, psz, 100 + i))
			bad++;
		munmap(extra[i], 64 * psz);
	}
	ksft_test_result(wrote_back, "writeback_ran\n");
	ksft_test_result(bad == 0, "data_intact_after_writeback\n");
	munmap(mem, wb_pages * psz);
	print_all_deferred();

	err = zswap_on_zram_teardown();
	ksft_test_result(!err, "teardown\n");
	ksft_finished();
}
