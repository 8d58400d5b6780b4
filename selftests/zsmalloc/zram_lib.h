/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the zsmalloc selftests: zram device set-up as swap,
 * sysfs access, and a per-page verifiable data pattern.
 */
#ifndef ZSBED_ZRAM_LIB_H
#define ZSBED_ZRAM_LIB_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/swap.h>
#include <unistd.h>

#define ZRAM_SYS	"/sys/block/zram0"
#define ZRAM_DEV	"/dev/zram0"

/* Write @val to a sysfs attribute; 0 or -errno. */
static inline int sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;
	int err;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	err = n < 0 ? -errno : 0;
	close(fd);
	return err;
}

/* Read up to @len - 1 bytes of a sysfs attribute; 0 or -errno. */
static inline int sysfs_read(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/*
 * zram's mm_stat: orig_data_size compr_data_size mem_used_total
 * mem_limit mem_used_max same_pages pages_compacted huge_pages ...
 */
struct zram_mm_stat {
	unsigned long long orig_data_size;
	unsigned long long compr_data_size;
	unsigned long long mem_used_total;
};

static inline int zram_mm_stat(struct zram_mm_stat *st)
{
	char buf[512];
	int err = sysfs_read(ZRAM_SYS "/mm_stat", buf, sizeof(buf));

	if (err)
		return err;
	if (sscanf(buf, "%llu %llu %llu", &st->orig_data_size,
		   &st->compr_data_size, &st->mem_used_total) != 3)
		return -EINVAL;
	return 0;
}

/* Write a version-1 swap header covering @size bytes of @dev. */
static inline int write_swap_header(const char *dev, unsigned long long size)
{
	long psz = sysconf(_SC_PAGESIZE);
	unsigned char page[65536];
	uint32_t *info = (uint32_t *)(page + 1024);
	ssize_t n;
	int fd;

	if (psz <= 0 || psz > (long)sizeof(page))
		return -EINVAL;
	memset(page, 0, psz);
	info[0] = 1;				/* version */
	info[1] = size / psz - 1;		/* last_page */
	info[2] = 0;				/* nr_badpages */
	memcpy(page + psz - 10, "SWAPSPACE2", 10);
	fd = open(dev, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = pwrite(fd, page, psz, 0);
	if (n != psz) {
		close(fd);
		return n < 0 ? -errno : -EIO;
	}
	fsync(fd);
	close(fd);
	return 0;
}

/* Reset zram0, size it, and swap on it. 0 or -errno. */
static inline int zram_swap_setup(unsigned long long disksize)
{
	char val[32];
	int err;

	swapoff(ZRAM_DEV);
	sysfs_write(ZRAM_SYS "/reset", "1");
	err = sysfs_write(ZRAM_SYS "/comp_algorithm", "lzo-rle");
	if (err)
		return err;
	snprintf(val, sizeof(val), "%llu", disksize);
	err = sysfs_write(ZRAM_SYS "/disksize", val);
	if (err)
		return err;
	err = write_swap_header(ZRAM_DEV, disksize);
	if (err)
		return err;
	return swapon(ZRAM_DEV, 0) ? -errno : 0;
}

/* swapoff and reset; 0 or the first -errno. */
static inline int zram_swap_teardown(void)
{
	int err = swapoff(ZRAM_DEV) ? -errno : 0;
	int err2 = sysfs_write(ZRAM_SYS "/reset", "1");

	return err ? err : err2;
}

/*
 * The pattern: every 64-bit word of page @pg holds a value derived from
 * (seed, page, word), so a page swapped back in the wrong place, a stale
 * page or a zero-filled page all show up. Every fourth page is left
 * highly compressible and the others are not, so zsmalloc sees objects of
 * many size classes.
 */
static inline uint64_t pattern_word(uint64_t seed, uint64_t pg, uint64_t w)
{
	uint64_t x = seed ^ (pg << 20) ^ w;

	if (pg % 4 == 0)
		return (seed ^ pg) + (w % 8);	/* compressible, not same-filled */
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

static inline void fill_pattern(void *mem, size_t pages, size_t psz,
				uint64_t seed)
{
	for (size_t pg = 0; pg < pages; pg++) {
		uint64_t *w = (uint64_t *)((char *)mem + pg * psz);

		for (size_t i = 0; i < psz / 8; i++)
			w[i] = pattern_word(seed, pg, i);
	}
}

/* Number of pages whose content differs from the pattern. */
static inline size_t count_bad_pages(const void *mem, size_t pages,
				     size_t psz, uint64_t seed)
{
	size_t bad = 0;

	for (size_t pg = 0; pg < pages; pg++) {
		const uint64_t *w = (const uint64_t *)((const char *)mem + pg * psz);

		for (size_t i = 0; i < psz / 8; i++) {
			if (w[i] != pattern_word(seed, pg, i)) {
				bad++;
				break;
			}
		}
	}
	return bad;
}

#endif /* ZSBED_ZRAM_LIB_H */
