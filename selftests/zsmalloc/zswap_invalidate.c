// SPDX-License-Identifier: GPL-2.0
/*
 * zswap_invalidate: pages stored in zswap (in front of a zram swap
 * device), then released by munmap, go through zswap_invalidate(), the
 * path the series defers. Then zswap's pool is capped so stores force
 * writeback to the backing device, and the data is read back from both.
 *
 * Checks: the pages really went to zswap; every byte read back matches;
 * zswap's stored pages drop to the baseline at once and its pool size
 * returns within a bound without any flush (time reported); writeback ran.
 *
 *	zswap_invalidate [-m MiB] [-w writeback MiB] [-t ms] [-s compressor]
 *
 * -s switches zswap to another compressor while pages are stored: zswap
 * makes a new pool, and the old one is destroyed (zs_destroy_pool(), with
 * whatever deferred frees are pending) once munmap has released its last
 * entry. The case old_pool_destroyed checks that it went.
 *
 * The writeback phase caps zswap at 1% of RAM, so -w must exceed that
 * (about 5 MiB with mem=512M) for any page to be written back.
 */
#include "kselftest.h"
#include "zram_lib.h"

#define ZSWAP_PARAM "/sys/module/zswap/parameters/"
#define ZSWAP_DBG "/sys/kernel/debug/zswap/"

static unsigned long long dbg(const char *name)
{
	unsigned long long v = 0;
	char path[128];

	snprintf(path, sizeof(path), ZSWAP_DBG "%s", name);
	read_ull(path, &v);
	return v;
}

/* zsmalloc pools that belong to zswap (named zswap<N>). */
static int count_zswap_pools(void)
{
	DIR *dir = opendir("/sys/kernel/debug/zsmalloc");
	struct dirent *de;
	int n = 0;

	if (!dir)
		return -1;
	while ((de = readdir(dir)))
		n += !strncmp(de->d_name, "zswap", 5);
	closedir(dir);
	return n;
}

/* Wait until zswap's pool is back to @base bytes; ms, or -1. */
static double wait_zswap_pool(unsigned long long base, double timeout_ms)
{
	double start = now_ms();

	while (dbg("pool_total_size") > base) {
		if (now_ms() - start > timeout_ms)
			return -1;
		usleep(1000);
	}
	return now_ms() - start;
}

int main(int argc, char **argv)
{
	size_t mib = 16, wb_mib = 16, psz = sysconf(_SC_PAGESIZE), pages, wb_pages, bad;
	unsigned long long base_stored, base_size, base_wb, stored;
	double timeout_ms = 5000, returned, start;
	const char *switch_to = NULL;
	int opt, err, pools = 0;
	void *mem;

	while ((opt = getopt(argc, argv, "m:w:t:s:")) != -1) {
		if (opt == 'm')
			mib = strtoul(optarg, NULL, 0);
		else if (opt == 'w')
			wb_mib = strtoul(optarg, NULL, 0);
		else if (opt == 't')
			timeout_ms = atof(optarg);
		else if (opt == 's')
			switch_to = optarg;
	}
	pages = (mib << 20) / psz;
	wb_pages = (wb_mib << 20) / psz;
	ksft_print_header();
	if (access(ZSWAP_PARAM "enabled", F_OK))
		ksft_exit_skip("no zswap (CONFIG_ZSWAP off?)\n");
	ksft_set_plan(6 + !!switch_to);

	err = zram_swap_setup(4 * ((mib > wb_mib ? mib : wb_mib) << 20));
	if (!err)
		err = sysfs_write(ZSWAP_PARAM "compressor", "lzo");
	if (!err)
		err = sysfs_write(ZSWAP_PARAM "max_pool_percent", "50");
	if (!err)
		err = sysfs_write(ZSWAP_PARAM "enabled", "Y");
	if (err)
		ksft_exit_fail_msg("zswap set-up: %s\n", strerror(-err));
	/* zswap creates its debugfs directory when it is first enabled */
	if (access(ZSWAP_DBG "stored_pages", F_OK))
		ksft_exit_fail_msg("zswap enabled but %s is missing\n", ZSWAP_DBG);
	base_stored = dbg("stored_pages");
	base_size = dbg("pool_total_size");
	base_wb = dbg("written_back_pages");

	/* 1. Store in zswap, fault half back, munmap the rest. */
	mem = map_paged_out(pages, psz, 7);
	if (!mem)
		ksft_exit_fail_perror("mmap/MADV_PAGEOUT");
	stored = dbg("stored_pages") - base_stored;
	ksft_print_msg("zswap stored %llu of %zu pages\n", stored, pages);
	ksft_test_result(stored >= pages / 10 * 9, "stored_in_zswap\n");

	bad = count_bad_pages(mem, pages / 2, psz, 7);
	if (switch_to) {
		err = sysfs_write(ZSWAP_PARAM "compressor", switch_to);
		pools = count_zswap_pools();
		ksft_print_msg("compressor -> %s: %s, %d zswap pools\n", switch_to,
			       err ? strerror(-err) : "ok", pools);
	}
	munmap(mem, pages * psz);
	if (switch_to) {
		/* the old pool goes once its last entry is gone */
		print_all_deferred();
		start = now_ms();
		while (count_zswap_pools() >= pools && now_ms() - start < timeout_ms)
			usleep(1000);
		ksft_print_msg("old zswap pool destroyed after %.1f ms (%d pools left)\n",
			       now_ms() - start, count_zswap_pools());
		ksft_print_msg("counter zswap.pools_destroyed %d\n", pools - count_zswap_pools());
		ksft_test_result(pools >= 2 && count_zswap_pools() == pools - 1,
				 "old_pool_destroyed\n");
	}
	stored = dbg("stored_pages");
	returned = wait_zswap_pool(base_size, timeout_ms);
	ksft_print_msg("read back %zu pages, %zu mismatched; after munmap stored %llu "
		       "(baseline %llu)\n", pages / 2, bad, stored, base_stored);
	if (returned >= 0)
		ksft_print_msg("pool back to %llu bytes after %.1f ms\n", base_size, returned);
	else
		ksft_print_msg("pool not back to %llu bytes within %.0f ms\n",
			       base_size, timeout_ms);
	ksft_test_result(bad == 0, "data_intact\n");
	ksft_test_result(stored == base_stored && returned >= 0, "invalidate_returns_memory\n");

	/* 2. Cap the pool: stores beyond it make zswap write back to zram. */
	sysfs_write(ZSWAP_PARAM "max_pool_percent", "1");
	mem = map_paged_out(wb_pages, psz, 8);
	if (!mem)
		ksft_exit_fail_perror("mmap/MADV_PAGEOUT");
	usleep(200000);		/* the shrink worker runs asynchronously */
	bad = count_bad_pages(mem, wb_pages, psz, 8);
	ksft_print_msg("written back %llu pages; read back %zu, %zu mismatched\n",
		       dbg("written_back_pages") - base_wb, wb_pages, bad);
	ksft_test_result(dbg("written_back_pages") > base_wb, "writeback_ran\n");
	ksft_test_result(bad == 0, "data_intact_after_writeback\n");
	munmap(mem, wb_pages * psz);
	print_all_deferred();

	sysfs_write(ZSWAP_PARAM "enabled", "N");
	sysfs_write(ZSWAP_PARAM "max_pool_percent", "20");
	err = zram_swap_teardown();
	ksft_test_result(!err, "teardown\n");
	ksft_finished();
}
