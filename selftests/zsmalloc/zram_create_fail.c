// SPDX-License-Identifier: GPL-2.0
/*
 * zram_create_fail: zram's pool creation fails, then works.
 *
 * Meant to run with zsmalloc's fail_deferred_alloc fault point armed for
 * one failure (zsbed's alloc-failures-create scenario): setting zram0's
 * disksize must then fail with ENOMEM and leave the device unconfigured;
 * the next attempt must succeed, and the device must swap correctly.
 * Without the fault armed, the first case fails: it is not a test on its
 * own.
 *
 *	zram_create_fail [-m MiB]
 */
#include "kselftest.h"
#include "zram_lib.h"

int main(int argc, char **argv)
{
	size_t mib = 8, psz = sysconf(_SC_PAGESIZE), pages;
	unsigned long long disksize = 1;
	char val[32];
	void *mem;
	int opt, err;

	while ((opt = getopt(argc, argv, "m:")) != -1) {
		if (opt == 'm')
			mib = strtoul(optarg, NULL, 0);
	}
	pages = (mib << 20) / psz;
	ksft_print_header();
	if (access(ZRAM_SYS, F_OK))
		ksft_exit_skip("no %s (CONFIG_ZRAM off?)\n", ZRAM_SYS);
	ksft_set_plan(3);

	swapoff(ZRAM_DEV);
	sysfs_write(ZRAM_SYS "/reset", "1");
	sysfs_write(ZRAM_SYS "/comp_algorithm", "lzo-rle");
	snprintf(val, sizeof(val), "%zu", 4 * (mib << 20));
	err = sysfs_write(ZRAM_SYS "/disksize", val);
	read_ull(ZRAM_SYS "/disksize", &disksize);
	ksft_print_msg("first disksize write: %s; disksize now %llu\n",
		       err ? strerror(-err) : "succeeded", disksize);
	ksft_test_result(err == -ENOMEM && disksize == 0, "create_fails_cleanly\n");

	err = zram_swap_setup(4 * (mib << 20));
	mem = err ? NULL : map_paged_out(pages, psz, 3);
	ksft_test_result(mem && count_bad_pages(mem, pages, psz, 3) == 0,
			 "usable_after_failure\n");
	if (mem)
		munmap(mem, pages * psz);
	err = zram_swap_teardown();
	ksft_test_result(!err, "teardown\n");
	ksft_finished();
}
