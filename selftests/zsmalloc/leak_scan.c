// SPDX-License-Identifier: GPL-2.0
/*
 * leak_scan: ask kmemleak for a scan after the workloads and fail on any
 * report whose backtrace names zsmalloc, zram or zswap. Skips on kernels
 * without kmemleak (the fast variant).
 */
#include "kselftest.h"
#include "zram_lib.h"

int main(void)
{
	int reports;

	ksft_print_header();
	if (access("/sys/kernel/debug/kmemleak", F_OK))
		ksft_exit_skip("no kmemleak in this kernel\n");
	ksft_set_plan(1);
	/* kmemleak reports an object only once it was seen unreferenced twice */
	kmemleak_zs_reports();
	sleep(1);
	reports = kmemleak_zs_reports();
	if (reports < 0)
		ksft_exit_fail_msg("kmemleak scan: %s\n", strerror(-reports));
	ksft_print_msg("%d kmemleak report(s) in zsmalloc/zram/zswap\n", reports);
	ksft_test_result(reports == 0, "kmemleak_zsmalloc_zram_zswap\n");
	ksft_finished();
}
