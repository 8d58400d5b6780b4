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
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/swap.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ZRAM_SYS	"/sys/block/zram0"
#define ZRAM_DEV	"/dev/zram0"

/* Write @val to a sysfs attribute; 0 or -errno. */
int sysfs_write(const char *path, const char *val);

/* Read up to @len - 1 bytes of a sysfs attribute; 0 or -errno. */
int sysfs_read(const char *path, char *buf, size_t len);

/* Running under UML: its /proc/cpuinfo names it. */
int on_uml(void);

/*
 * UML with SMP has no TLB shootdown: a task that runs in user space while
 * another CPU migrates one of its pages keeps using the old page until it
 * next enters the kernel.  Its writes in that window are lost, and land in
 * a page that has been freed and may already be reused (seen here as
 * segfaults and as corrupted pages in later tests; migrate_coherence shows
 * it without zsmalloc).  Tests that run a compaction storm call this in the
 * tasks that stay in user space meanwhile: their memory is mlocked, and
 * compaction is told to leave mlocked pages alone, so whatever they see
 * comes from the code under test.  zspages are not mlocked and still move.
 * A real machine (the x86_64 guest) shoots down TLBs: there nothing is
 * pinned, and real migration races real user-space writes.
 * @flags: MCL_CURRENT, optionally | MCL_FUTURE.  0 or -errno.
 */
int pin_against_compaction(int flags);

/*
 * zram's mm_stat: orig_data_size compr_data_size mem_used_total
 * mem_limit mem_used_max same_pages pages_compacted huge_pages ...
 */
struct zram_mm_stat {
	unsigned long long orig_data_size;
	unsigned long long compr_data_size;
	unsigned long long mem_used_total;
	unsigned long long mem_limit;
	unsigned long long mem_used_max;
	unsigned long long same_pages;
};

int zram_mm_stat(struct zram_mm_stat *st);

/* Write a version-1 swap header covering @size bytes of @dev. */
int write_swap_header(const char *dev, unsigned long long size);

/* Reset zram0, size it, and swap on it. 0 or -errno. */
int zram_swap_setup(unsigned long long disksize);

/* swapoff and reset; 0 or the first -errno. */
int zram_swap_teardown(void);

/*
 * The pattern: every 64-bit word of page @pg holds a value derived from
 * (seed, page, word), so a page swapped back in the wrong place, a stale
 * page or a zero-filled page all show up. Every fourth page is left
 * highly compressible and the others are not, so zsmalloc sees objects of
 * many size classes.
 */
uint64_t pattern_word(uint64_t seed, uint64_t pg, uint64_t w);

/* The value of word @w of page @pg of a pattern of @seed. */
typedef uint64_t (*page_word_fn)(uint64_t seed, uint64_t pg, uint64_t w);

/* Fill @pages pages of @mem with @word's pattern of @seed. */
void fill_words(void *mem, size_t pages, size_t psz, uint64_t seed,
			      page_word_fn word);

void fill_pattern(void *mem, size_t pages, size_t psz,
				uint64_t seed);

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

/*
 * A private anonymous mapping of @pages pages filled with @word's pattern
 * of @seed; NULL (errno set) on failure.
 */
void *map_words(size_t pages, size_t psz, uint64_t seed,
			      page_word_fn word);

/* The same, paged out with MADV_PAGEOUT; NULL (errno set) on failure. */
void *map_words_paged_out(size_t pages, size_t psz, uint64_t seed,
					page_word_fn word);

/* The same, with the pattern of @seed. */
void *map_paged_out(size_t pages, size_t psz, uint64_t seed);

/* Number of pages whose content differs from @word's pattern of @seed. */
size_t count_bad_words(const void *mem, size_t pages, size_t psz,
				     uint64_t seed, page_word_fn word);

/* Number of pages whose content differs from the pattern. */
size_t count_bad_pages(const void *mem, size_t pages,
				     size_t psz, uint64_t seed);

/* qsort() comparator for doubles, ascending */
int cmp_double(const void *a, const void *b);

double now_ms(void);

/* Read a single unsigned number from a file; 0 or -errno. */
int read_ull(const char *path, unsigned long long *val);

#define ZSWAP_PARAM "/sys/module/zswap/parameters/"
#define ZSWAP_DBG "/sys/kernel/debug/zswap/"

/* A counter of /sys/kernel/debug/zswap, or 0. */
unsigned long long zswap_dbg(const char *name);

/*
 * zram0 as swap (@disksize bytes) with zswap in front of it: lzo, at most
 * half of RAM.  0 or -errno.
 */
int zswap_on_zram_setup(unsigned long long disksize);

/* zswap off again, its limit back to the default, and zram torn down. */
int zswap_on_zram_teardown(void);

/* The "Total" row of /sys/kernel/debug/zsmalloc/<pool>/classes. */
struct zs_pool_totals {
	unsigned long long obj_allocated;
	unsigned long long obj_used;
	unsigned long long pages_used;
};

int zs_pool_totals(const char *pool, struct zs_pool_totals *t);

/*
 * /sys/kernel/debug/zsmalloc/<pool>/deferred_free, when the series has it,
 * and what zsbed's fault points observed of the queue (0010): the most
 * handles pending at once and the longest a handle queued on the empty
 * array waited for a drain pass.  The have_* flags say which were there.
 */
struct zs_deferred {
	unsigned long long pending, capacity, queued, drained;
	unsigned long long fallback_contended, fallback_full, drain_runs;
	unsigned long long max_delay_ms, pending_max, wait_max_ms;
	int have_max_delay, have_observed;
	unsigned int have;	/* bit ZS_DQ_*: the file showed that counter */
	/* The first line out of Documentation/mm/zsmalloc.rst's order, if any */
	char misplaced[64], after[64];
};

/*
 * The counters every deferred_free shows: their bits in zs_deferred.have,
 * in the order the file documents (max_delay_ms comes last)
 */
enum {
	ZS_DQ_PENDING,
	ZS_DQ_CAPACITY,
	ZS_DQ_QUEUED,
	ZS_DQ_DRAINED,
	ZS_DQ_FALLBACK_CONTENDED,
	ZS_DQ_FALLBACK_FULL,
	ZS_DQ_DRAIN_RUNS,
	ZS_DQ_NR,
};

extern const char * const zs_dq_names[ZS_DQ_NR];

/* Where @key's line belongs in deferred_free, or -1 if it is not a counter */
int zs_deferred_key_pos(const char *key);

#define ZS_DEBUGFS "/sys/kernel/debug/zsmalloc/"

int zs_deferred_read(const char *pool, struct zs_deferred *d);

/*
 * Hold @pool's backstop off for @ms (deferred_max_delay_ms, 0010), so that
 * handles queued below half capacity stay pending with the drain idle.
 * 0 or -errno (-ENOENT: the series has no backstop to hold).
 */
int zs_deferred_hold(const char *pool, const char *ms);

/* Forget what the fault points observed of @pool's queue so far. */
void zs_deferred_reset_observed(const char *pool);

/* One pool's counters as a KTAP diagnostic line (see print_all_deferred). */
void print_deferred(const char *pool, const struct zs_deferred *d);

/*
 * Print every pool's deferred-free counters as a KTAP diagnostic,
 *	# deferred <pool> pending N capacity N queued N drained N ...
 * so that zsbed's fault scenarios can check, per pool, which paths ran.
 */
void print_all_deferred(void);

/*
 * The backstop's promise, checked from user space: a handle queued on an
 * empty array waits for a drain pass no longer than this many times the
 * pool's configured delay (max_delay_ms in deferred_free).  The wait
 * includes the time the drain's worker takes to get a CPU: 30-70 ms were
 * seen for a 20 ms delay in 149 release tests on two busy vCPUs.
 */
#define BACKSTOP_SLACK	8

/*
 * The backstop_bounded case for @pool: fails, with the reason, when the
 * series has no backstop or when a handle waited longer than the bound.
 * With @report_only the wait is printed and the case is not run: a fault
 * scenario whose pauses or injected load keep both vCPUs busy measures
 * scheduling there, not the backstop (its -B argument says so).
 */
int backstop_bounded(const char *pool);

#ifdef KSFT_PASS
/*
 * Inline, unlike the rest: ksft_test_result() counts in kselftest.h's
 * counters, which each program has its own copy of.  The including
 * program has included kselftest.h first (zram_lib.c has not).
 */
static inline void backstop_case(const char *pool, int report_only)
{
	struct zs_deferred d;

	if (report_only) {
		if (!zs_deferred_read(pool, &d) && d.have_observed)
			printf("# backstop: %s: longest wait for a drain %llu ms (not checked: -B)\n",
			       pool, d.wait_max_ms);
		return;
	}
	ksft_test_result(backstop_bounded(pool), "backstop_bounded\n");
}
#endif

/*
 * Whether @d's counters agree, printing why not when @say: every handle
 * queued is pending or was drained, a drained handle was freed by a
 * counted drain pass, and a counted pass freed at least one handle.  A
 * drain pass counts its batch when it has freed it and itself when it
 * ends, so the counters agree only between passes.
 */
int deferred_agree(const char *pool, const struct zs_deferred *d, int say);

/*
 * The deferred_counters_agree case for @pool: deferred_free shows every
 * counter, and, within 2 s (a drain pass running now must end), they
 * agree (see deferred_agree).  Fails, with the reason, otherwise.
 */
int deferred_counters_agree(const char *pool);

/* zsmalloc pools that belong to zswap (named zswap<N>). */
int count_zswap_pools(void);

/* The newest zswap pool (zswap<hex>, numbered as created) into @name. */
int newest_zswap_pool(char *name, size_t len);

/*
 * Wait, without flushing anything, until @pool holds no more than
 * @base_pages pages and no deferred handle is pending. Returns the time it
 * took in ms, or -1 after @timeout_ms; *@pending_max gets the largest
 * pending count seen.
 */
double wait_pool_returned(const char *pool, unsigned long long base_pages,
					double timeout_ms, unsigned long long *pending_max);

/*
 * Ask kmemleak for a scan and count reports whose backtrace names zsmalloc,
 * zram or zswap. -ENOENT when the kernel has no kmemleak.
 */
int kmemleak_zs_reports(void);

/*
 * Pages held by all zsmalloc pools (nr_zspages in /proc/vmstat): counts
 * zspages that no pool list knows about any more, such as pages leaked
 * on an allocation error path.  -1 if it cannot be read.
 */
long long nr_zspages(void);

/*
 * zs_handle objects allocated in the whole system, from SLUB's sysfs.
 * Exact only for a cache with SLUB debugging on (no per-CPU slabs), such
 * as under slub_debug=FZP,zs_handle; -1 when it is not exact or missing.
 */
long long zs_handle_objects(void);

/*
 * Fork a worker for the ready/go protocol of the release tests: each
 * worker writes a byte to @ready once set up, then blocks reading @go,
 * whose write end the parent closes to release every worker at once.
 * Returns 0 in the worker (the parent's pipe ends closed), its pid in the
 * parent, -1 if fork() failed.
 */
pid_t fork_worker(const int ready[2], const int go[2]);

/*
 * A survivor: a process that keeps swapped-out data mapped while the
 * others release theirs, so that a drain which frees a handle still in use
 * shows up as data that no longer reads back.  It reads its pages through
 * /proc/self/mem, i.e. through the kernel: under UML a task's own view of
 * a page that another CPU migrates can be stale (see
 * pin_against_compaction()), the kernel's never is.  The buffer the kernel
 * copies into is a page of its own, mlocked: UML's copy to user space
 * does not hold the page it writes, and a compaction that moved it in
 * between made KASAN report a use-after-free in copy_chunk_to_user() and
 * the read-back mismatch (deep, compaction_storm, once in a make mutation
 * run).
 */
struct survivor {
	pid_t pid;
	int cmd;		/* write a byte: read everything back */
	int res;		/* the survivor answers with a long long */
	size_t pages;
};

void survivor_main(size_t pages, size_t psz, uint64_t seed,
				 int cmd, int res);

/*
 * Fork a survivor holding @pages pages of pattern @seed, paged out; it
 * returns once they are.  Start it before any other pipe of the test
 * exists, so that it holds none of them open.  0 or -errno.
 */
int survivor_start(struct survivor *s, size_t pages, size_t psz,
				 uint64_t seed);

/* Have the survivor read every page back: pages that mismatch, or -1. */
long long survivor_check(struct survivor *s);

/* End the survivor: its memory is released by its exit.  0 or -errno. */
int survivor_stop(struct survivor *s);

#endif /* ZSBED_ZRAM_LIB_H */
