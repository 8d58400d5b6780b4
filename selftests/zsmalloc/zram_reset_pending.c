// SPDX-License-Identifier: GPL-2.0
/*
 * zram_reset_pending: tear zram down while zs_free_deferred() handles are
 * still queued. The process pages memory out, unmaps it (the slot frees go
 * to the deferred queue), and swaps off and resets zram at once, so
 * zs_destroy_pool() has to flush the queue. Then zram is set up again and
 * used, to show the old pool left nothing behind that breaks the new one.
 *
 * Reports how many handles were pending when the reset began.  Pending
 * handles at the reset are the point of the test: when none were (the
 * series stopped deferring, or the drain won the race), it fails.
 *
 *	zram_reset_pending [-m MiB] [-H ms]
 *
 * -H holds the pool's backstop off for that long (deferred_max_delay_ms),
 * so that every handle is still pending, with the drain idle, at the
 * reset: only zs_destroy_pool()'s own flush can free them then.
 */
#include "kselftest.h"
#include "zram_lib.h"

int main(int argc, char **argv)
{
	size_t mib = 16, psz = sysconf(_SC_PAGESIZE), bytes;
	struct zs_deferred d;
	const char *hold = NULL;
	int opt, err, have_deferred;
	void *mem;

	while ((opt = getopt(argc, argv, "m:H:")) != -1) {
		if (opt == 'm')
			mib = strtoul(optarg, NULL, 0);
		else if (opt == 'H')
			hold = optarg;
	}
	bytes = mib << 20;
	ksft_print_header();
	if (access(ZRAM_SYS, F_OK))
		ksft_exit_skip("no %s (CONFIG_ZRAM off?)\n", ZRAM_SYS);
	ksft_set_plan(3);

	err = zram_swap_setup(4 * bytes);
	if (!err && hold)
		err = zs_deferred_hold("zram0", hold);
	if (err)
		ksft_exit_fail_msg("zram swap set-up: %s\n", strerror(-err));
	mem = map_paged_out(bytes / psz, psz, 1);
	if (!mem)
		ksft_exit_fail_perror("mmap/MADV_PAGEOUT");
	munmap(mem, bytes);
	have_deferred = !zs_deferred_read("zram0", &d);
	print_all_deferred();
	err = zram_swap_teardown();
	ksft_print_msg("pending at reset: %llu of %llu queued (deferred_free %s)\n",
		       d.pending, d.queued, have_deferred ? "present" : "absent");
	if (err)
		ksft_test_result_fail("reset_with_pending: %s\n", strerror(-err));
	else if (!d.pending)
		ksft_test_result_fail("reset_with_pending: nothing was pending at reset\n");
	else
		ksft_test_result_pass("reset_with_pending\n");

	/* The device must work again from scratch, data intact. */
	err = zram_swap_setup(4 * bytes);
	mem = err ? NULL : map_paged_out(bytes / psz, psz, 2);
	ksft_test_result(mem && count_bad_pages(mem, bytes / psz, psz, 2) == 0,
			 "reuse_after_reset\n");
	if (mem)
		munmap(mem, bytes);
	err = zram_swap_teardown();
	ksft_test_result(!err, "teardown\n");
	ksft_finished();
}
