// SPDX-License-Identifier: GPL-2.0
/*
 * deferred_limits: do frees that are only queued count against zram's
 * mem_limit and zswap's max_pool_percent?
 *
 * Process memory A is paged out, then the limit is set just above what A
 * needs, so that the same amount again fits only once A's memory has
 * really been returned.  A is unmapped (its handles go to the deferred
 * queue) and at once the same amount of new memory B is paged out.  If
 * A's queued handles still count against the limit, B's zram writes fail
 * (io_stat failed_writes) or zswap rejects B's stores (pool_limit_hit),
 * although nothing but the queue holds A's memory.
 *
 *	deferred_limits [-z] [-m MiB] [-H ms] [-R] [-S [-W]]
 *
 * Default: zram0's mem_limit.  -z: zswap's max_pool_percent, zswap in
 * front of zram0; afterwards zswap switches compressor, and its old pool
 * must be destroyed (the limit's flush gave its reference back).  The
 * counts are reported as counters for zsbed's scenarios
 * (limits.zram.failed_writes, limits.zswap.limit_hits).
 *
 * -H holds the pool's backstop off for that long (deferred_max_delay_ms)
 * from A's release until B is paged out, so that nothing but the limit
 * check itself can give A's memory back: without it, whether B meets the
 * limit at all depends on how fast the drain runs next to B's page-out.
 *
 * -R (zram): a reader of the device on the writer's CPU.  Memory C, paged
 * out before A, is faulted back in while B is paged out, one compressed
 * page every READ_GAP_US, by a child pinned to the CPU the writer is
 * pinned to: each read decompresses with that CPU's compression stream.
 * A, B and C are then compressible throughout, so that the write that
 * meets the limit is one that compresses (with the stream).
 * A limit flush that holds the stream makes the read wait for all of it;
 * the longest wait is reported (limits.zram.reader_wait_max_ms).
 *
 * -S (zswap, with -H): no flush storm in the pool's hysteresis band.
 * Writeback is turned off for this task's cgroup, so that the pool stays
 * full; A is paged out, the limit set just above it, and more memory
 * paged out until the pool is full (pool_limit_hit).  Then STORM_ROUNDS
 * times: one page of A is unmapped (its free is queued, and the backstop
 * is held) and one new page is paged out (a store in the band).  A
 * flush in the store's path makes the page-out wait for the drain (the
 * scenario delays every drain batch): the page-outs' median and 99th
 * percentile are limits.zswap.store_p50_us and store_p99_us.  Drain
 * passes (limits.zswap.band_flushes) are reported too; they include the
 * shrink worker's flushes, which a refused store queues and which run
 * beside the stores, not in their path.  Last, with everything unmapped,
 * a switch of compressor must destroy the pool (pool_released): the pool
 * first met its limit with nothing queued, where a limit check that puts
 * its pool reference only when it flushed would keep the pool for good.
 *
 * -W (with -S): zswap's writeback must not make room that is only queued.
 * With the pool full as for -S, all but STORM_ROUNDS pages of A are
 * unmapped (their frees queued, the backstop held: the pool would be far
 * below its acceptance threshold without them), writeback is turned back
 * on, and one store in the band (refused) queues zswap's shrink worker.
 * The pages it writes back are limits.zswap.written_back_for_queued.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdbool.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "kselftest.h"
#include "zram_lib.h"

/* zram's io_stat: failed_reads failed_writes ... */
static unsigned long long zram_failed_writes(void)
{
	unsigned long long reads = 0, writes = 0;
	char buf[256];

	if (!sysfs_read(ZRAM_SYS "/io_stat", buf, sizeof(buf)))
		sscanf(buf, "%llu %llu", &reads, &writes);
	return writes;
}

static unsigned long long mem_total_bytes(void)
{
	unsigned long long kib = 0;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "MemTotal: %llu kB", &kib) == 1)
			break;
	}
	fclose(f);
	return kib << 10;
}

/* Every page compressible and none same-filled: -R's pages */
static uint64_t compressible_word(uint64_t seed, uint64_t pg, uint64_t w)
{
	return (seed ^ pg) + (w % 8);
}

/*
 * Half of each page random, half one value: about half a page compressed.
 * -S's pages: with writeback off, zswap refuses pages that do not
 * compress, and pages that compress to nearly nothing fill the pool only
 * after hundreds of MiB.
 */
static uint64_t half_word(uint64_t seed, uint64_t pg, uint64_t w)
{
	return w < 256 ? pattern_word(seed, pg | 1, w) : seed ^ pg;
}

/* The pattern of A, B and C: zram_lib.h's, or compressible_word with -R */
static page_word_fn word = pattern_word;

/*
 * B's verdict: how many of its @pages pages were stored, how often the
 * limit (@what) refused it, and whether all of it reads back.  Unmaps B.
 */
static void check_b(void *b, size_t pages, size_t psz, const char *dev,
		    const char *what, unsigned long long refused,
		    unsigned long long stored, const char *name)
{
	size_t bad;

	ksft_print_msg("B: %llu of %zu pages stored in %s; %s %llu\n", stored, pages, dev,
		       what, refused);
	ksft_print_msg("counter limits.%s.%s %llu\n", dev, what, refused);
	ksft_print_msg("counter limits.%s.stored_pages %llu\n", dev, stored);
	ksft_test_result(refused == 0 && stored >= pages / 10 * 9, "%s\n", name);
	bad = count_bad_words(b, pages, psz, 2, word);
	ksft_print_msg("B read back: %zu pages mismatched\n", bad);
	ksft_test_result(bad == 0, "data_intact\n");
	munmap(b, pages * psz);
}

static const char *hold_ms;
static char held_default[32];
static bool reader, storm, writeback;

#define STORM_ROUNDS	256
#define CGROUP		"/sys/fs/cgroup"
#define NO_WB_CGROUP	CGROUP "/zsbed-no-writeback"

#define READ_GAP_US	2000

/* What the reader child saw, in memory shared with the parent */
struct read_log {
	volatile int stop;
	unsigned long reads;
	double wait_max_ms;
};

/* Pin this task (and the children it forks from now on) to CPU 0. */
static void pin_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		ksft_exit_fail_perror("sched_setaffinity");
}

/*
 * Fork the reader: it faults in every fourth page of C, one at a time,
 * until told to stop, and logs the longest fault.  Returns its pid.
 */
static pid_t start_reader(const char *c, size_t pages, size_t psz,
			  struct read_log *log)
{
	pid_t pid = fork();

	if (pid < 0)
		ksft_exit_fail_perror("fork");
	if (pid)
		return pid;
	for (size_t pg = 0; pg < pages && !log->stop; pg += 4) {
		double start = now_ms(), waited;

		(void)*(volatile const char *)(c + pg * psz);
		waited = now_ms() - start;
		if (waited > log->wait_max_ms)
			log->wait_max_ms = waited;
		log->reads++;
		usleep(READ_GAP_US);
	}
	_exit(0);
}

static void stop_reader(pid_t pid, struct read_log *log)
{
	log->stop = 1;
	waitpid(pid, NULL, 0);
	ksft_print_msg("reader: %lu reads of C while B was paged out, longest %.1f ms\n",
		       log->reads, log->wait_max_ms);
	ksft_print_msg("counter limits.zram.reader_reads %lu\n", log->reads);
	ksft_print_msg("counter limits.zram.reader_wait_max_ms %.0f\n", log->wait_max_ms);
}

/* Hold @pool's backstop off (-H), remembering its delay for release(). */
static void hold(const char *pool)
{
	char path[512];
	int err;

	if (!hold_ms)
		return;
	snprintf(path, sizeof(path), ZS_DEBUGFS "%s/deferred_max_delay_ms", pool);
	err = sysfs_read(path, held_default, sizeof(held_default));
	if (!err)
		err = zs_deferred_hold(pool, hold_ms);
	if (err)
		ksft_exit_fail_msg("%s: deferred_max_delay_ms: %s\n", pool, strerror(-err));
}

static void release(const char *pool)
{
	if (hold_ms)
		zs_deferred_hold(pool, held_default);
}

/* @pool's queue right after A's release; returns how much it has drained. */
static unsigned long long pool_line(const char *alias, const char *pool)
{
	struct zs_deferred d;

	printf("# pool %s %s\n", alias, pool);
	if (zs_deferred_read(pool, &d))
		return 0;
	print_deferred(pool, &d);
	return d.drained;
}

/*
 * How many of the queued handles were drained while B was paged out.
 * With the backstop held (-H), only a limit check's flush drains them.
 */
static void drained_during_b(const char *dev, const char *pool, unsigned long long before)
{
	struct zs_deferred d;

	if (zs_deferred_read(pool, &d))
		return;
	ksft_print_msg("counter limits.%s.drained_during_b %llu\n", dev, d.drained - before);
}

static int test_zram(size_t mib, size_t psz)
{
	size_t pages = (mib << 20) / psz;
	unsigned long long failed, limit, stored, drained;
	struct read_log *log = NULL;
	struct zram_mm_stat base, st;
	char val[32], *c = NULL;
	pid_t pid = 0;
	void *a, *b;
	int err;

	err = zram_swap_setup((reader ? 5 : 4) * (mib << 20));
	if (!err)
		err = zram_mm_stat(&base);
	if (err)
		ksft_exit_fail_msg("zram swap set-up: %s\n", strerror(-err));
	if (reader) {
		pin_cpu0();
		log = mmap(NULL, sizeof(*log), PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		c = map_words_paged_out(pages, psz, 3, word);
		if (log == MAP_FAILED || !c)
			ksft_exit_fail_perror("mmap/MADV_PAGEOUT of C");
		zram_mm_stat(&base);
	}
	a = map_words_paged_out(pages, psz, 1, word);
	if (!a)
		ksft_exit_fail_perror("mmap/MADV_PAGEOUT");
	zram_mm_stat(&st);
	/* B alone fits with a quarter to spare; A's pages and B's do not */
	limit = st.mem_used_total + (st.mem_used_total - base.mem_used_total) / 4;
	snprintf(val, sizeof(val), "%llu", limit);
	err = sysfs_write(ZRAM_SYS "/mem_limit", val);
	if (err)
		ksft_exit_fail_msg("mem_limit: %s\n", strerror(-err));
	ksft_print_msg("A stored %llu pages in %llu bytes; mem_limit %llu\n",
		       (st.orig_data_size - base.orig_data_size) / psz,
		       st.mem_used_total - base.mem_used_total, limit);
	ksft_test_result(st.orig_data_size - base.orig_data_size >= pages / 10 * 9 * psz,
			 "a_paged_out\n");

	failed = zram_failed_writes();
	hold("zram0");
	munmap(a, pages * psz);
	drained = pool_line("zram", "zram0");
	if (reader)
		pid = start_reader(c, pages, psz, log);
	b = map_words_paged_out(pages, psz, 2, word);
	if (reader)
		stop_reader(pid, log);
	if (!b)
		ksft_exit_fail_perror("mmap/MADV_PAGEOUT");
	drained_during_b("zram", "zram0", drained);
	release("zram0");
	zram_mm_stat(&st);
	failed = zram_failed_writes() - failed;
	stored = (st.orig_data_size - base.orig_data_size) / psz;
	check_b(b, pages, psz, "zram", "failed_writes", failed, stored, "limit_writes_succeed");
	sysfs_write(ZRAM_SYS "/mem_limit", "0");
	if (reader)
		munmap(c, pages * psz);
	return zram_swap_teardown();
}

/*
 * The limit check's flush takes a reference on zswap's current pool: it
 * must drop it. With A and B gone, the pool holds no entry, so a switch of
 * compressor must destroy it (its zsmalloc debugfs directory goes); a
 * reference kept would keep it, with its memory, for good.
 */
static void pool_released(const char *pool)
{
	char path[PATH_MAX];
	double start;
	int err;

	if (!pool[0]) {
		ksft_test_result_skip("pool_released (no zswap pool in %s)\n", ZS_DEBUGFS);
		return;
	}
	snprintf(path, sizeof(path), "%s%s", ZS_DEBUGFS, pool);
	err = sysfs_write(ZSWAP_PARAM "compressor", "lz4");
	start = now_ms();
	/* the destruction flushes what is still queued, each batch delayed in -S */
	while (!err && !access(path, F_OK) && now_ms() - start < 5000)
		usleep(1000);
	ksft_print_msg("compressor -> lz4: %s; pool %s %s after %.1f ms\n",
		       err ? strerror(-err) : "ok", pool,
		       access(path, F_OK) ? "destroyed" : "still there", now_ms() - start);
	ksft_test_result(!err && access(path, F_OK), "pool_released\n");
}

/*
 * zswap in front of zram0 (@disksize), and A (@pages pages) paged out into
 * it: returns A; *@base is the pool's size before A, *@size_a A's share.
 */
static char *zswap_with_a(unsigned long long disksize, size_t pages, size_t psz,
			  unsigned long long *base, unsigned long long *size_a)
{
	int err = zswap_on_zram_setup(disksize);
	char *a;

	if (err)
		ksft_exit_fail_msg("zswap set-up: %s\n", strerror(-err));
	*base = zswap_dbg("pool_total_size");
	a = map_words_paged_out(pages, psz, 1, word);
	if (!a)
		ksft_exit_fail_perror("mmap/MADV_PAGEOUT");
	*size_a = zswap_dbg("pool_total_size") - *base;
	return a;
}

/* Move this task into a cgroup whose zswap entries are never written back */
static int join_no_writeback_cgroup(void)
{
	char pid[32];
	int err;

	if (access(CGROUP "/cgroup.controllers", F_OK) &&
	    mount("cgroup2", CGROUP, "cgroup2", 0, NULL))
		return -errno;
	err = sysfs_write(CGROUP "/cgroup.subtree_control", "+memory");
	if (!err && mkdir(NO_WB_CGROUP, 0755) && errno != EEXIST)
		err = -errno;
	if (!err)
		err = sysfs_write(NO_WB_CGROUP "/memory.zswap.writeback", "0");
	snprintf(pid, sizeof(pid), "%d", getpid());
	if (!err)
		err = sysfs_write(NO_WB_CGROUP "/cgroup.procs", pid);
	return err;
}

static void leave_no_writeback_cgroup(void)
{
	char pid[32];

	snprintf(pid, sizeof(pid), "%d", getpid());
	sysfs_write(CGROUP "/cgroup.procs", pid);
	rmdir(NO_WB_CGROUP);
}

/* map_words() of this run's pattern, or exit */
static char *mapped(size_t pages, size_t psz, uint64_t seed)
{
	char *mem = map_words(pages, psz, seed, word);

	if (!mem)
		ksft_exit_fail_perror("mmap");
	return mem;
}

/* Page out F (@fill pages) until the pool meets its limit; returns F. */
static char *fill_to_limit(size_t fill, size_t psz)
{
	unsigned long long hits = zswap_dbg("pool_limit_hit");
	size_t chunk = 64, filled = 0;
	char *f = mapped(fill, psz, 4);

	while (filled < fill && zswap_dbg("pool_limit_hit") == hits) {
		madvise(f + filled * psz, chunk * psz, MADV_PAGEOUT);
		filled += chunk;
	}
	ksft_print_msg("band: the pool met its limit after %zu pages of F\n", filled);
	ksft_test_result(zswap_dbg("pool_limit_hit") > hits, "pool_full\n");
	return f;
}

/*
 * -W: unmap all of A but its first STORM_ROUNDS pages, turn writeback
 * back on, and let one refused store in the band run the shrink worker.
 */
static void writeback_for_queued(char *a, size_t pages, size_t psz, const char *pool)
{
	unsigned long long wb = zswap_dbg("written_back_pages"), hits;
	struct zs_deferred before, after;
	char *p = mapped(1, psz, 6);

	if (zs_deferred_read(pool, &before))
		ksft_exit_fail_msg("%s: no deferred_free\n", pool);
	munmap(a + STORM_ROUNDS * psz, (pages - STORM_ROUNDS) * psz);
	zs_deferred_read(pool, &after);
	/* the check fires only if A's frees were really queued */
	ksft_print_msg("counter limits.zswap.wb_frees_queued %llu\n",
		       after.queued - before.queued);
	if (sysfs_write(NO_WB_CGROUP "/memory.zswap.writeback", "1"))
		ksft_exit_fail_msg("memory.zswap.writeback=1 failed\n");
	hits = zswap_dbg("pool_limit_hit");
	madvise(p, psz, MADV_PAGEOUT);
	/* the worker is queued on a refused store; give it time to finish */
	sleep(1);
	wb = zswap_dbg("written_back_pages") - wb;
	ksft_print_msg("writeback: %llu pages written back for %zu pages of A only queued (limit hits %llu)\n",
		       wb, pages - STORM_ROUNDS, zswap_dbg("pool_limit_hit") - hits);
	ksft_print_msg("counter limits.zswap.written_back_for_queued %llu\n", wb);
	munmap(p, psz);
}

/*
 * -S: fill the pool to its limit with memory F, then interleave one
 * queued free of A's (a page unmapped) with one store (a page paged out)
 * STORM_ROUNDS times, timing each page-out.  -W instead checks the shrink
 * worker (writeback_for_queued()).  Unmaps A, F and its own memory.
 */
static void band_storm(char *a, size_t pages, size_t psz, const char *pool)
{
	double took[STORM_ROUNDS];
	struct zs_deferred before, after;
	char *f, *p;

	f = fill_to_limit(2 * pages, psz);
	if (writeback) {
		writeback_for_queued(a, pages, psz, pool);
		munmap(f, 2 * pages * psz);
		munmap(a, STORM_ROUNDS * psz);
		return;
	}
	p = mapped(STORM_ROUNDS, psz, 5);
	if (zs_deferred_read(pool, &before))
		ksft_exit_fail_msg("%s: no deferred_free\n", pool);
	for (size_t i = 0; i < STORM_ROUNDS; i++) {
		double start;

		munmap(a + i * psz, psz);
		start = now_ms();
		madvise(p + i * psz, psz, MADV_PAGEOUT);
		took[i] = (now_ms() - start) * 1000;
	}
	zs_deferred_read(pool, &after);
	qsort(took, STORM_ROUNDS, sizeof(took[0]), cmp_double);
	ksft_print_msg("band: %d stores, %llu flushes, %llu frees queued; page-out p50 %.0f us, p99 %.0f us\n",
		       STORM_ROUNDS, after.drain_runs - before.drain_runs,
		       after.queued - before.queued, took[STORM_ROUNDS / 2],
		       took[STORM_ROUNDS * 99 / 100]);
	ksft_print_msg("counter limits.zswap.band_stores %d\n", STORM_ROUNDS);
	ksft_print_msg("counter limits.zswap.band_flushes %llu\n",
		       after.drain_runs - before.drain_runs);
	ksft_print_msg("counter limits.zswap.band_frees_queued %llu\n",
		       after.queued - before.queued);
	ksft_print_msg("counter limits.zswap.store_p50_us %.0f\n", took[STORM_ROUNDS / 2]);
	ksft_print_msg("counter limits.zswap.store_p99_us %.0f\n",
		       took[STORM_ROUNDS * 99 / 100]);
	munmap(f, 2 * pages * psz);
	munmap(p, STORM_ROUNDS * psz);
	munmap(a + STORM_ROUNDS * psz, (pages - STORM_ROUNDS) * psz);
}

static int test_zswap_storm(size_t mib, size_t psz)
{
	unsigned long long base_size, size_a, ram;
	size_t pages = (mib << 20) / psz;
	char val[16], pool[NAME_MAX + 1] = "";
	int err;
	char *a;

	if (!hold_ms || pages <= STORM_ROUNDS)
		ksft_exit_fail_msg("-S needs -H and more than %d pages\n", STORM_ROUNDS);
	err = join_no_writeback_cgroup();
	if (err)
		ksft_exit_skip("no cgroup with memory.zswap.writeback=0: %s\n", strerror(-err));
	/* A wide band: stores are accepted again below half the limit */
	sysfs_write(ZSWAP_PARAM "accept_threshold_percent", "50");
	a = zswap_with_a(8 * (mib << 20), pages, psz, &base_size, &size_a);
	ram = mem_total_bytes();
	/* the smallest whole percent above A: F fills the rest */
	snprintf(val, sizeof(val), "%llu",
		 ram ? (base_size + size_a) * 100 / ram + 1 : 0);
	sysfs_write(ZSWAP_PARAM "max_pool_percent", val);
	ksft_print_msg("A: %llu bytes in zswap; RAM %llu; max_pool_percent %s\n",
		       size_a, ram, val);
	newest_zswap_pool(pool, sizeof(pool));
	if (!pool[0])
		ksft_exit_fail_msg("-S: no zswap pool in %s\n", ZS_DEBUGFS);
	hold(pool);
	band_storm(a, pages, psz, pool);
	release(pool);
	sysfs_write(ZSWAP_PARAM "accept_threshold_percent", "90");
	leave_no_writeback_cgroup();
	/* The storm ran limit checks and the shrink worker on an empty queue too */
	pool_released(pool);
	return zswap_on_zram_teardown();
}

static int test_zswap(size_t mib, size_t psz)
{
	unsigned long long base_size, size_a, hits, stored, ram, percent, drained = 0;
	size_t pages = (mib << 20) / psz;
	char val[16], pool[NAME_MAX + 1] = "";
	void *a, *b;

	a = zswap_with_a(4 * (mib << 20), pages, psz, &base_size, &size_a);
	ram = mem_total_bytes();
	/* the smallest whole percent that holds B with a fifth to spare */
	percent = ram ? ((base_size + size_a + size_a / 5) * 100 + ram - 1) / ram : 0;
	ksft_print_msg("A: %llu bytes in zswap; RAM %llu; max_pool_percent %llu "
		       "(%llu bytes)\n", size_a, ram, percent, ram * percent / 100);
	ksft_test_result(percent && ram * percent / 100 < base_size + 2 * size_a,
			 "limit_between_one_and_two\n");
	snprintf(val, sizeof(val), "%llu", percent);
	sysfs_write(ZSWAP_PARAM "max_pool_percent", val);

	newest_zswap_pool(pool, sizeof(pool));
	if (!pool[0] && hold_ms)
		ksft_exit_fail_msg("-H: no zswap pool in %s\n", ZS_DEBUGFS);
	if (pool[0])
		hold(pool);
	hits = zswap_dbg("pool_limit_hit");
	munmap(a, pages * psz);
	/* zswap drops A's entries at once; only their zsmalloc frees wait */
	stored = zswap_dbg("stored_pages");
	if (pool[0])
		drained = pool_line("zswap", pool);
	b = map_words_paged_out(pages, psz, 2, word);
	if (!b)
		ksft_exit_fail_perror("mmap/MADV_PAGEOUT");
	if (pool[0]) {
		drained_during_b("zswap", pool, drained);
		release(pool);
	}
	hits = zswap_dbg("pool_limit_hit") - hits;
	stored = zswap_dbg("stored_pages") - stored;
	check_b(b, pages, psz, "zswap", "limit_hits", hits, stored, "limit_stores_accepted");
	pool_released(pool);
	return zswap_on_zram_teardown();
}

int main(int argc, char **argv)
{
	size_t mib = 16, psz = sysconf(_SC_PAGESIZE);
	bool zswap = false;
	int opt, err;

	while ((opt = getopt(argc, argv, "zm:H:RSW")) != -1) {
		if (opt == 'z')
			zswap = true;
		else if (opt == 'm')
			mib = strtoul(optarg, NULL, 0);
		else if (opt == 'H')
			hold_ms = optarg;
		else if (opt == 'R') {
			reader = true;
			word = compressible_word;
		} else if (opt == 'S') {
			storm = true;
			word = half_word;
		} else if (opt == 'W') {
			writeback = true;
		}
		else
			ksft_exit_fail_msg("usage: deferred_limits [-z] [-m MiB] [-H ms] [-R] [-S [-W]]\n");
	}
	ksft_print_header();
	if (zswap && reader)
		ksft_exit_fail_msg("-R is for zram (without -z)\n");
	if (storm && !zswap)
		ksft_exit_fail_msg("-S is for zswap (with -z)\n");
	if (writeback && !storm)
		ksft_exit_fail_msg("-W needs -S\n");
	if (access(ZRAM_SYS, F_OK))
		ksft_exit_skip("no %s (CONFIG_ZRAM off?)\n", ZRAM_SYS);
	if (zswap && access(ZSWAP_PARAM "enabled", F_OK))
		ksft_exit_fail_msg("no zswap (CONFIG_ZSWAP off?)\n");
	if (storm) {
		ksft_set_plan(3);
		err = test_zswap_storm(mib, psz);
		ksft_test_result(!err, "teardown\n");
		ksft_finished();
	}
	ksft_set_plan(zswap ? 5 : 4);
	err = zswap ? test_zswap(mib, psz) : test_zram(mib, psz);
	ksft_test_result(!err, "teardown\n");
	ksft_finished();
}
