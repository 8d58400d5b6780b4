// SPDX-License-Identifier: GPL-2.0
/*
 * zram_slot_flags: a freed slot keeps none of its old page's flags.
 *
 * The series splits zram's slot free in two (slot_free_extract() drops the
 * slot's bookkeeping under the slot lock, the zsmalloc handle is freed
 * later). The flags a post-processing pass leaves on a slot must go with
 * the bookkeeping: a new page written to the slot must not inherit them.
 * ZRAM_INCOMPRESSIBLE is the one a new write does not clear by itself, and
 * recompression skips a slot that carries it.
 *
 * zram0 as a plain block device (O_DIRECT, one page at a time): two
 * incompressible pages are stored huge, recompressed with zram's second
 * algorithm, which cannot shrink them either, so both are marked
 * incompressible ('n' in debugfs block_state); page 0 is freed by a
 * discard and written again, page 1 is overwritten in place. Neither new
 * page may show 'n'. Usage: zram_slot_flags (no options).
 */
#include <linux/fs.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#include "kselftest.h"
#include "zram_lib.h"

#define BLOCK_STATE "/sys/kernel/debug/zram/zram0/block_state"

/*
 * The flags block_state shows for slot @index ("" when the slot holds
 * nothing); 0 or -errno.
 */
static int slot_flags(unsigned long index, char *flags, size_t len)
{
	char buf[8192], *line, *save;
	int err = sysfs_read(BLOCK_STATE, buf, sizeof(buf));

	if (err)
		return err;
	flags[0] = '\0';
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long idx;
		char when[64], f[16];

		if (sscanf(line, "%lu %63s %15s", &idx, when, f) == 3 && idx == index) {
			snprintf(flags, len, "%s", f);
			break;
		}
	}
	return 0;
}

static int has_flag(unsigned long index, char flag)
{
	char flags[16];

	if (slot_flags(index, flags, sizeof(flags)))
		return -1;
	ksft_print_msg("slot %lu flags '%s'\n", index, flags);
	return strchr(flags, flag) != NULL;
}

/*
 * One page of zram_lib.h's pattern: as page 1 of a pattern it is random
 * (stored huge), as page 0 compressible (and not same-filled).
 */
static void fill(uint64_t *page, size_t psz, int compressible, uint64_t seed)
{
	for (size_t i = 0; i < psz / 8; i++)
		page[i] = pattern_word(seed, compressible ? 0 : 1, i);
}

static int put_page(int fd, void *page, size_t psz, unsigned long index)
{
	return pwrite(fd, page, psz, (off_t)(index * psz)) == (ssize_t)psz ? 0 : -errno;
}

int main(void)
{
	size_t psz = sysconf(_SC_PAGESIZE);
	uint64_t range[2];
	void *page;
	int fd, err;

	ksft_print_header();
	if (access(ZRAM_SYS, F_OK))
		ksft_exit_skip("no %s (CONFIG_ZRAM off?)\n", ZRAM_SYS);
	ksft_set_plan(4);

	err = sysfs_write(ZRAM_SYS "/reset", "1");
	if (!err)
		err = sysfs_write(ZRAM_SYS "/comp_algorithm", "lzo");
	if (!err)
		err = sysfs_write(ZRAM_SYS "/recomp_algorithm", "algo=lzo-rle priority=1");
	if (!err)
		err = sysfs_write(ZRAM_SYS "/disksize", "1M");
	if (err)
		ksft_exit_fail_msg("zram0 set-up (lzo, recompression with lzo-rle): %s\n",
				   strerror(-err));
	if (access(BLOCK_STATE, R_OK))
		ksft_exit_fail_msg("no %s (CONFIG_ZRAM_MEMORY_TRACKING off?)\n", BLOCK_STATE);
	if (posix_memalign(&page, psz, psz))
		ksft_exit_fail_msg("posix_memalign\n");
	fd = open(ZRAM_DEV, O_RDWR | O_DIRECT);
	if (fd < 0)
		ksft_exit_fail_perror("open " ZRAM_DEV);

	fill(page, psz, 0, 1);
	err = put_page(fd, page, psz, 0);
	fill(page, psz, 0, 2);
	if (!err)
		err = put_page(fd, page, psz, 1);
	if (!err)
		err = sysfs_write(ZRAM_SYS "/recompress", "type=huge");
	if (err)
		ksft_exit_fail_msg("write and recompress: %s\n", strerror(-err));
	/* the precondition: otherwise the checks below check nothing */
	ksft_test_result(has_flag(0, 'n') == 1 && has_flag(1, 'n') == 1,
			 "recompress_marks_incompressible\n");

	range[0] = 0;
	range[1] = psz;
	err = ioctl(fd, BLKDISCARD, range) ? -errno : 0;
	if (err)
		ksft_exit_fail_msg("BLKDISCARD page 0: %s\n", strerror(-err));
	ksft_test_result(has_flag(0, 'h') == 0, "discard_frees_slot\n");
	fill(page, psz, 1, 3);
	err = put_page(fd, page, psz, 0);
	ksft_test_result(!err && has_flag(0, 'n') == 0, "discarded_slot_flags_clear\n");

	fill(page, psz, 1, 4);
	err = put_page(fd, page, psz, 1);
	ksft_test_result(!err && has_flag(1, 'n') == 0, "overwritten_slot_flags_clear\n");

	close(fd);
	free(page);
	err = sysfs_write(ZRAM_SYS "/reset", "1");
	if (err)
		ksft_print_msg("zram reset: %s\n", strerror(-err));
	ksft_finished();
}
