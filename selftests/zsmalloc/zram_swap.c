// SPDX-License-Identifier: GPL-2.0
/*
 * zram_swap: smoke test of the swap path through zram and zsmalloc.
 *
 * Sets up zram0 as swap, fills anonymous memory with a verifiable pattern,
 * pages it out with MADV_PAGEOUT, reads every byte back, unmaps, swaps off
 * and resets zram. An eighth as many same-filled pages take the same trip:
 * zram keeps those in the slot itself (ZRAM_SAME), with no zsmalloc
 * object, so their release must hand zsmalloc no handle to free.
 * Usage: zram_swap [-m MiB]  (default 16).
 */
#include <stdlib.h>

#include "kselftest.h"
#include "zram_lib.h"

#define SEED 0x7a73626564ULL	/* "zsbed" */

/*
 * A same-filled page: every word of page @pg is the same, never zero
 * (zero-filled pages stay in the swap layer's zero map and never reach
 * zram).
 */
static uint64_t same_word(uint64_t seed, uint64_t pg, uint64_t w)
{
	(void)w;
	return (seed ^ (pg * 0x9e3779b97f4a7c15ULL)) | 1;
}

int main(int argc, char **argv)
{
	size_t mib = 16, psz = sysconf(_SC_PAGESIZE), pages, nsame, bad;
	struct zram_mm_stat base, st;
	void *same;
	void *mem;
	int opt, err;

	while ((opt = getopt(argc, argv, "m:")) != -1) {
		if (opt == 'm')
			mib = strtoul(optarg, NULL, 0);
	}
	pages = mib * 1024 * 1024 / psz;
	nsame = pages / 8 ? pages / 8 : 1;

	ksft_print_header();
	if (access(ZRAM_SYS, F_OK))
		ksft_exit_skip("no %s (CONFIG_ZRAM off?)\n", ZRAM_SYS);
	ksft_set_plan(8);

	err = zram_swap_setup(4 * mib * 1024 * 1024);
	if (err)
		ksft_exit_fail_msg("zram swap set-up: %s\n", strerror(-err));
	/* The swap header page is stored in zram too: that is the baseline. */
	err = zram_mm_stat(&base);
	if (err)
		ksft_exit_fail_msg("mm_stat: %s\n", strerror(-err));
	ksft_print_msg("zram0: %zu MiB swap, baseline %llu bytes stored\n",
		       4 * mib, base.orig_data_size);
	ksft_test_result_pass("zram_swap_setup\n");

	mem = map_paged_out(pages, psz, SEED);
	if (!mem)
		ksft_exit_fail_perror("mmap/MADV_PAGEOUT");
	err = zram_mm_stat(&st);
	ksft_print_msg("after pageout: orig_data_size %llu compr_data_size %llu mem_used_total %llu\n",
		       st.orig_data_size, st.compr_data_size, st.mem_used_total);
	/* At least 90% of the pages must have gone to zram. */
	ksft_print_msg("pageout stored %llu of %zu bytes in zram\n",
		       st.orig_data_size - base.orig_data_size, pages * psz);
	ksft_test_result(!err &&
			 st.orig_data_size - base.orig_data_size >= pages * psz / 10 * 9 &&
			 st.mem_used_total > 0, "pageout_to_zram\n");

	bad = count_bad_pages(mem, pages, psz, SEED);
	ksft_print_msg("read back %zu pages, %zu mismatched\n", pages, bad);
	ksft_test_result(bad == 0, "data_read_back\n");

	same = map_words_paged_out(nsame, psz, SEED, same_word);
	if (!same)
		ksft_exit_fail_perror("mmap/MADV_PAGEOUT (same-filled)");
	err = zram_mm_stat(&st);
	ksft_print_msg("same-filled pageout: same_pages %llu (baseline %llu) for %zu pages\n",
		       st.same_pages, base.same_pages, nsame);
	ksft_test_result(!err && st.same_pages - base.same_pages >= nsame / 10 * 9,
			 "same_filled_to_zram\n");
	bad = count_bad_words(same, nsame, psz, SEED, same_word);
	ksft_print_msg("read back %zu same-filled pages, %zu mismatched\n", nsame, bad);
	ksft_test_result(bad == 0, "same_filled_read_back\n");

	munmap(same, nsame * psz);
	munmap(mem, pages * psz);
	err = swapoff(ZRAM_DEV) ? -errno : 0;
	if (!err)
		err = zram_mm_stat(&st);
	ksft_print_msg("after munmap + swapoff: %llu bytes stored (baseline %llu, err %d)\n",
		       st.orig_data_size, base.orig_data_size, err);
	ksft_test_result(!err && st.orig_data_size == base.orig_data_size,
			 "zram_back_to_baseline\n");
	ksft_print_msg("after munmap + swapoff: same_pages %llu (baseline %llu)\n",
		       st.same_pages, base.same_pages);
	ksft_test_result(!err && st.same_pages == base.same_pages,
			 "same_filled_released\n");

	err = sysfs_write(ZRAM_SYS "/reset", "1");
	if (err)
		ksft_print_msg("zram reset: %s\n", strerror(-err));
	ksft_test_result(!err, "zram_reset\n");
	ksft_finished();
}
