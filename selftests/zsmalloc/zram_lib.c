// SPDX-License-Identifier: GPL-2.0
/*
 * The helpers the zsmalloc selftests share (declared in zram_lib.h),
 * built once and linked into each program by the Makefile.
 */
#include "zram_lib.h"

/* Write @val to a sysfs attribute; 0 or -errno. */
int sysfs_write(const char *path, const char *val)
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
int sysfs_read(const char *path, char *buf, size_t len)
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

/* Running under UML: its /proc/cpuinfo names it. */
int on_uml(void)
{
	char buf[4096];

	return !sysfs_read("/proc/cpuinfo", buf, sizeof(buf)) &&
	       strstr(buf, "User Mode Linux") != NULL;
}

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
int pin_against_compaction(int flags)
{
	int err;

	if (!on_uml())
		return 0;
	err = sysfs_write("/proc/sys/vm/compact_unevictable_allowed", "0");
	if (!err && mlockall(flags))
		err = -errno;
	return err;
}

int zram_mm_stat(struct zram_mm_stat *st)
{
	char buf[512];
	int err = sysfs_read(ZRAM_SYS "/mm_stat", buf, sizeof(buf));

	if (err)
		return err;
	if (sscanf(buf, "%llu %llu %llu %llu %llu %llu", &st->orig_data_size,
		   &st->compr_data_size, &st->mem_used_total, &st->mem_limit,
		   &st->mem_used_max, &st->same_pages) != 6)
		return -EINVAL;
	return 0;
}

/* Write a version-1 swap header covering @size bytes of @dev. */
int write_swap_header(const char *dev, unsigned long long size)
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
int zram_swap_setup(unsigned long long disksize)
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
int zram_swap_teardown(void)
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
uint64_t pattern_word(uint64_t seed, uint64_t pg, uint64_t w)
{
	uint64_t x = seed ^ (pg << 20) ^ w;

	if (pg % 4 == 0)
		return (seed ^ pg) + (w % 8);	/* compressible, not same-filled */
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

/* Fill @pages pages of @mem with @word's pattern of @seed. */
void fill_words(void *mem, size_t pages, size_t psz, uint64_t seed,
			      page_word_fn word)
{
	for (size_t pg = 0; pg < pages; pg++) {
		uint64_t *w = (uint64_t *)((char *)mem + pg * psz);

		for (size_t i = 0; i < psz / 8; i++)
			w[i] = word(seed, pg, i);
	}
}

void fill_pattern(void *mem, size_t pages, size_t psz,
				uint64_t seed)
{
	fill_words(mem, pages, psz, seed, pattern_word);
}

/*
 * A private anonymous mapping of @pages pages filled with @word's pattern
 * of @seed; NULL (errno set) on failure.
 */
void *map_words(size_t pages, size_t psz, uint64_t seed,
			      page_word_fn word)
{
	void *mem = mmap(NULL, pages * psz, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (mem == MAP_FAILED)
		return NULL;
	fill_words(mem, pages, psz, seed, word);
	return mem;
}

/* The same, paged out with MADV_PAGEOUT; NULL (errno set) on failure. */
void *map_words_paged_out(size_t pages, size_t psz, uint64_t seed,
					page_word_fn word)
{
	void *mem = map_words(pages, psz, seed, word);

	if (!mem)
		return NULL;
	if (madvise(mem, pages * psz, MADV_PAGEOUT)) {
		int err = errno;

		munmap(mem, pages * psz);
		errno = err;
		return NULL;
	}
	return mem;
}

/* The same, with the pattern of @seed. */
void *map_paged_out(size_t pages, size_t psz, uint64_t seed)
{
	return map_words_paged_out(pages, psz, seed, pattern_word);
}

/* Number of pages whose content differs from @word's pattern of @seed. */
size_t count_bad_words(const void *mem, size_t pages, size_t psz,
				     uint64_t seed, page_word_fn word)
{
	size_t bad = 0;

	for (size_t pg = 0; pg < pages; pg++) {
		const uint64_t *w = (const uint64_t *)((const char *)mem + pg * psz);

		for (size_t i = 0; i < psz / 8; i++) {
			if (w[i] != word(seed, pg, i)) {
				bad++;
				break;
			}
		}
	}
	return bad;
}

/* Number of pages whose content differs from the pattern. */
size_t count_bad_pages(const void *mem, size_t pages,
				     size_t psz, uint64_t seed)
{
	return count_bad_words(mem, pages, psz, seed, pattern_word);
}

/* qsort() comparator for doubles, ascending */
int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Read a single unsigned number from a file; 0 or -errno. */
int read_ull(const char *path, unsigned long long *val)
{
	char buf[64];
	int err = sysfs_read(path, buf, sizeof(buf));

	if (err)
		return err;
	return sscanf(buf, "%llu", val) == 1 ? 0 : -EINVAL;
}

/* A counter of /sys/kernel/debug/zswap, or 0. */
unsigned long long zswap_dbg(const char *name)
{
	unsigned long long v = 0;
	char path[128];

	snprintf(path, sizeof(path), ZSWAP_DBG "%s", name);
	read_ull(path, &v);
	return v;
}

/*
 * zram0 as swap (@disksize bytes) with zswap in front of it: lzo, at most
 * half of RAM.  0 or -errno.
 */
int zswap_on_zram_setup(unsigned long long disksize)
{
	int err = zram_swap_setup(disksize);

	if (!err)
		err = sysfs_write(ZSWAP_PARAM "compressor", "lzo");
	if (!err)
		err = sysfs_write(ZSWAP_PARAM "max_pool_percent", "50");
	if (!err)
		err = sysfs_write(ZSWAP_PARAM "enabled", "Y");
	return err;
}

/* zswap off again, its limit back to the default, and zram torn down. */
int zswap_on_zram_teardown(void)
{
	sysfs_write(ZSWAP_PARAM "enabled", "N");
	sysfs_write(ZSWAP_PARAM "max_pool_percent", "20");
	return zram_swap_teardown();
}

int zs_pool_totals(const char *pool, struct zs_pool_totals *t)
{
	char path[512], line[512];
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/zsmalloc/%s/classes", pool);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v[15];
		char *p = strstr(line, "Total");
		int n = 0;

		if (!p)
			continue;
		p += strlen("Total");
		while (n < 15) {
			char *end;

			v[n] = strtoull(p, &end, 10);
			if (end == p)
				break;
			p = end;
			n++;
		}
		/* 11 fullness groups, then obj_allocated obj_used pages_used freeable */
		if (n == 15) {
			t->obj_allocated = v[11];
			t->obj_used = v[12];
			t->pages_used = v[13];
			found = 1;
		}
	}
	fclose(f);
	return found ? 0 : -EINVAL;
}

const char * const zs_dq_names[ZS_DQ_NR] = {
	[ZS_DQ_PENDING] = "pending",
	[ZS_DQ_CAPACITY] = "capacity",
	[ZS_DQ_QUEUED] = "queued",
	[ZS_DQ_DRAINED] = "drained",
	[ZS_DQ_FALLBACK_CONTENDED] = "fallback_contended",
	[ZS_DQ_FALLBACK_FULL] = "fallback_full",
	[ZS_DQ_DRAIN_RUNS] = "drain_runs",
};

/* Where @key's line belongs in deferred_free, or -1 if it is not a counter */
int zs_deferred_key_pos(const char *key)
{
	for (int i = 0; i < ZS_DQ_NR; i++)
		if (!strcmp(key, zs_dq_names[i]))
			return i;
	return -1;
}

int zs_deferred_read(const char *pool, struct zs_deferred *d)
{
	char path[512], key[64], last[64] = "";
	unsigned long long val;
	int pos, last_pos = -1;
	FILE *f;

	memset(d, 0, sizeof(*d));
	snprintf(path, sizeof(path), ZS_DEBUGFS "%s/deferred_pending_max", pool);
	if (!read_ull(path, &d->pending_max)) {
		snprintf(path, sizeof(path), ZS_DEBUGFS "%s/deferred_wait_max_ms", pool);
		d->have_observed = !read_ull(path, &d->wait_max_ms);
	}
	snprintf(path, sizeof(path), ZS_DEBUGFS "%s/deferred_free", pool);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fscanf(f, "%63s %llu", key, &val) == 2) {
		pos = -1;
		if (!strcmp(key, "pending"))
			d->pending = val, d->have |= 1u << ZS_DQ_PENDING;
		else if (!strcmp(key, "capacity"))
			d->capacity = val, d->have |= 1u << ZS_DQ_CAPACITY;
		else if (!strcmp(key, "queued"))
			d->queued = val, d->have |= 1u << ZS_DQ_QUEUED;
		else if (!strcmp(key, "drained"))
			d->drained = val, d->have |= 1u << ZS_DQ_DRAINED;
		else if (!strcmp(key, "fallback_contended"))
			d->fallback_contended = val, d->have |= 1u << ZS_DQ_FALLBACK_CONTENDED;
		else if (!strcmp(key, "fallback_full"))
			d->fallback_full = val, d->have |= 1u << ZS_DQ_FALLBACK_FULL;
		else if (!strcmp(key, "drain_runs"))
			d->drain_runs = val, d->have |= 1u << ZS_DQ_DRAIN_RUNS;
		else if (!strcmp(key, "max_delay_ms"))
			d->max_delay_ms = val, d->have_max_delay = 1, pos = ZS_DQ_NR;
		if (pos < 0)
			pos = zs_deferred_key_pos(key);
		if (pos >= 0) {
			if (pos <= last_pos && !d->misplaced[0]) {
				snprintf(d->misplaced, sizeof(d->misplaced), "%s", key);
				snprintf(d->after, sizeof(d->after), "%s", last);
			}
			last_pos = pos;
			snprintf(last, sizeof(last), "%s", key);
		}
	}
	fclose(f);
	return 0;
}

/*
 * Hold @pool's backstop off for @ms (deferred_max_delay_ms, 0010), so that
 * handles queued below half capacity stay pending with the drain idle.
 * 0 or -errno (-ENOENT: the series has no backstop to hold).
 */
int zs_deferred_hold(const char *pool, const char *ms)
{
	char path[512];

	snprintf(path, sizeof(path), ZS_DEBUGFS "%s/deferred_max_delay_ms", pool);
	return sysfs_write(path, ms);
}

/* Forget what the fault points observed of @pool's queue so far. */
void zs_deferred_reset_observed(const char *pool)
{
	char path[512];

	snprintf(path, sizeof(path), ZS_DEBUGFS "%s/deferred_pending_max", pool);
	sysfs_write(path, "0");
	snprintf(path, sizeof(path), ZS_DEBUGFS "%s/deferred_wait_max_ms", pool);
	sysfs_write(path, "0");
}

/* One pool's counters as a KTAP diagnostic line (see print_all_deferred). */
void print_deferred(const char *pool, const struct zs_deferred *d)
{
	printf("# deferred %s pending %llu capacity %llu queued %llu drained %llu "
	       "fallback_contended %llu fallback_full %llu drain_runs %llu",
	       pool, d->pending, d->capacity, d->queued, d->drained,
	       d->fallback_contended, d->fallback_full, d->drain_runs);
	if (d->have_max_delay)
		printf(" max_delay_ms %llu", d->max_delay_ms);
	if (d->have_observed)
		printf(" pending_max %llu wait_max_ms %llu", d->pending_max, d->wait_max_ms);
	printf("\n");
}

/*
 * Print every pool's deferred-free counters as a KTAP diagnostic,
 *	# deferred <pool> pending N capacity N queued N drained N ...
 * so that zsbed's fault scenarios can check, per pool, which paths ran.
 */
void print_all_deferred(void)
{
	DIR *dir = opendir("/sys/kernel/debug/zsmalloc");
	struct dirent *de;
	struct zs_deferred d;

	if (!dir)
		return;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.' || zs_deferred_read(de->d_name, &d))
			continue;
		print_deferred(de->d_name, &d);
	}
	closedir(dir);
}

/*
 * The backstop_bounded case for @pool: fails, with the reason, when the
 * series has no backstop or when a handle waited longer than the bound.
 * With @report_only the wait is printed and the case is not run: a fault
 * scenario whose pauses or injected load keep both vCPUs busy measures
 * scheduling there, not the backstop (its -B argument says so).
 */
int backstop_bounded(const char *pool)
{
	struct zs_deferred d;

	if (zs_deferred_read(pool, &d)) {
		printf("# backstop: no deferred_free for %s\n", pool);
		return 0;
	}
	if (!d.have_max_delay || !d.have_observed) {
		printf("# backstop: %s shows no %s\n", pool,
		       d.have_max_delay ? "deferred_wait_max_ms (fault points)" :
		       "max_delay_ms: the series does not bound the wait");
		return 0;
	}
	printf("# backstop: %s: longest wait for a drain %llu ms, bound %d x %llu ms\n",
	       pool, d.wait_max_ms, BACKSTOP_SLACK, d.max_delay_ms);
	return d.wait_max_ms <= BACKSTOP_SLACK * d.max_delay_ms;
}

/*
 * Whether @d's counters agree, printing why not when @say: every handle
 * queued is pending or was drained, a drained handle was freed by a
 * counted drain pass, and a counted pass freed at least one handle.  A
 * drain pass counts its batch when it has freed it and itself when it
 * ends, so the counters agree only between passes.
 */
int deferred_agree(const char *pool, const struct zs_deferred *d, int say)
{
	if (d->queued != d->pending + d->drained) {
		if (say)
			printf("# counters: %s: queued %llu, but pending %llu + drained %llu\n",
			       pool, d->queued, d->pending, d->drained);
		return 0;
	}
	if ((d->drained && !d->drain_runs) || d->drain_runs > d->drained) {
		if (say)
			printf("# counters: %s: drained %llu in %llu drain runs\n",
			       pool, d->drained, d->drain_runs);
		return 0;
	}
	return 1;
}

/*
 * The deferred_counters_agree case for @pool: deferred_free shows every
 * counter, and, within 2 s (a drain pass running now must end), they
 * agree (see deferred_agree).  Fails, with the reason, otherwise.
 */
int deferred_counters_agree(const char *pool)
{
	double start = now_ms();
	struct zs_deferred d;
	unsigned int i;
	int ok = 1;

	if (zs_deferred_read(pool, &d)) {
		printf("# counters: no deferred_free for %s\n", pool);
		return 0;
	}
	for (i = 0; i < ZS_DQ_NR; i++) {
		if (!(d.have & (1u << i))) {
			printf("# counters: %s: deferred_free shows no %s\n", pool, zs_dq_names[i]);
			ok = 0;
		}
	}
	if (d.misplaced[0]) {
		printf("# counters: %s: deferred_free shows %s after %s, not in the documented order\n",
		       pool, d.misplaced, d.after);
		ok = 0;
	}
	if (!ok)
		return 0;
	while (!deferred_agree(pool, &d, 0) && now_ms() - start < 2000) {
		usleep(10000);
		if (zs_deferred_read(pool, &d)) {
			printf("# counters: %s: deferred_free went away\n", pool);
			return 0;
		}
	}
	if (d.pending > d.capacity) {
		printf("# counters: %s: pending %llu past capacity %llu\n",
		       pool, d.pending, d.capacity);
		return 0;
	}
	return deferred_agree(pool, &d, 1);
}

/* zsmalloc pools that belong to zswap (named zswap<N>). */
int count_zswap_pools(void)
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

/* The newest zswap pool (zswap<hex>, numbered as created) into @name. */
int newest_zswap_pool(char *name, size_t len)
{
	DIR *dir = opendir("/sys/kernel/debug/zsmalloc");
	unsigned long best = 0, n;
	struct dirent *de;
	int found = 0;

	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (strncmp(de->d_name, "zswap", 5) ||
		    sscanf(de->d_name + 5, "%lx", &n) != 1)
			continue;
		if (!found || n > best) {
			best = n;
			snprintf(name, len, "%s", de->d_name);
			found = 1;
		}
	}
	closedir(dir);
	return found ? 0 : -ENOENT;
}

/*
 * Wait, without flushing anything, until @pool holds no more than
 * @base_pages pages and no deferred handle is pending. Returns the time it
 * took in ms, or -1 after @timeout_ms; *@pending_max gets the largest
 * pending count seen.
 */
double wait_pool_returned(const char *pool, unsigned long long base_pages,
					double timeout_ms, unsigned long long *pending_max)
{
	double start = now_ms();

	*pending_max = 0;
	for (;;) {
		struct zs_pool_totals t;
		struct zs_deferred d;
		int have_deferred = !zs_deferred_read(pool, &d);

		if (have_deferred && d.pending > *pending_max)
			*pending_max = d.pending;
		if (!zs_pool_totals(pool, &t) && t.pages_used <= base_pages &&
		    (!have_deferred || d.pending == 0))
			return now_ms() - start;
		if (now_ms() - start > timeout_ms)
			return -1;
		usleep(1000);
	}
}

/*
 * Ask kmemleak for a scan and count reports whose backtrace names zsmalloc,
 * zram or zswap. -ENOENT when the kernel has no kmemleak.
 */
int kmemleak_zs_reports(void)
{
	int reports = 0, ours = 0;
	char line[512];
	FILE *f;
	int err = sysfs_write("/sys/kernel/debug/kmemleak", "scan");

	if (err)
		return err;
	f = fopen("/sys/kernel/debug/kmemleak", "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "unreferenced object")) {
			reports += ours;
			ours = 0;
		}
		if (strstr(line, "zs_") || strstr(line, "zram") || strstr(line, "zswap")) {
			if (!ours)
				printf("# kmemleak: %s", line);
			ours = 1;
		}
	}
	fclose(f);
	return reports + ours;
}

/*
 * Pages held by all zsmalloc pools (nr_zspages in /proc/vmstat): counts
 * zspages that no pool list knows about any more, such as pages leaked
 * on an allocation error path.  -1 if it cannot be read.
 */
long long nr_zspages(void)
{
	char line[128];
	long long v = -1;
	FILE *f;

	/* fold the per-CPU deltas in first, or the total lags by a few pages */
	sysfs_write("/proc/sys/vm/stat_refresh", "1");
	f = fopen("/proc/vmstat", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "nr_zspages %lld", &v) == 1)
			break;
	}
	fclose(f);
	return v;
}

/*
 * zs_handle objects allocated in the whole system, from SLUB's sysfs.
 * Exact only for a cache with SLUB debugging on (no per-CPU slabs), such
 * as under slub_debug=FZP,zs_handle; -1 when it is not exact or missing.
 */
long long zs_handle_objects(void)
{
	char buf[64];
	unsigned long long checks;

	if (read_ull("/sys/kernel/slab/zs_handle/sanity_checks", &checks) || !checks)
		return -1;
	if (sysfs_read("/sys/kernel/slab/zs_handle/objects", buf, sizeof(buf)))
		return -1;
	return strtoll(buf, NULL, 10);
}

/*
 * Fork a worker for the ready/go protocol of the release tests: each
 * worker writes a byte to @ready once set up, then blocks reading @go,
 * whose write end the parent closes to release every worker at once.
 * Returns 0 in the worker (the parent's pipe ends closed), its pid in the
 * parent, -1 if fork() failed.
 */
pid_t fork_worker(const int ready[2], const int go[2])
{
	pid_t pid = fork();

	if (!pid) {
		close(ready[0]);
		close(go[1]);
	}
	return pid;
}

void survivor_main(size_t pages, size_t psz, uint64_t seed,
				 int cmd, int res)
{
	char *page = mmap(NULL, psz, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), byte;
	void *mem = map_paged_out(pages, psz, seed);
	int fd = open("/proc/self/mem", O_RDONLY);
	long long bad = -1;

	if (page == MAP_FAILED || mlock(page, psz))
		page = NULL;
	if (!mem || !page || fd < 0) {
		if (write(res, &bad, sizeof(bad)) != sizeof(bad))
			_exit(2);
		_exit(1);
	}
	bad = 0;
	if (write(res, &bad, sizeof(bad)) != sizeof(bad))
		_exit(2);
	while (read(cmd, &byte, 1) == 1) {
		bad = 0;
		for (size_t pg = 0; pg < pages; pg++) {
			off_t at = (off_t)(uintptr_t)mem + (off_t)(pg * psz);
			const uint64_t *w = (const uint64_t *)page;

			if (pread(fd, page, psz, at) != (ssize_t)psz) {
				bad++;
				continue;
			}
			for (size_t i = 0; i < psz / 8; i++) {
				if (w[i] != pattern_word(seed, pg, i)) {
					bad++;
					break;
				}
			}
		}
		if (write(res, &bad, sizeof(bad)) != sizeof(bad))
			_exit(2);
	}
	_exit(0);
}

/*
 * Fork a survivor holding @pages pages of pattern @seed, paged out; it
 * returns once they are.  Start it before any other pipe of the test
 * exists, so that it holds none of them open.  0 or -errno.
 */
int survivor_start(struct survivor *s, size_t pages, size_t psz,
				 uint64_t seed)
{
	int cmd[2], res[2];
	long long ok;

	if (pipe(cmd))
		return -errno;
	if (pipe(res)) {
		close(cmd[0]);
		close(cmd[1]);
		return -errno;
	}
	s->pages = pages;
	s->pid = fork();
	if (s->pid < 0)
		return -errno;
	if (!s->pid) {
		close(cmd[1]);
		close(res[0]);
		survivor_main(pages, psz, seed, cmd[0], res[1]);
	}
	close(cmd[0]);
	close(res[1]);
	s->cmd = cmd[1];
	s->res = res[0];
	if (read(s->res, &ok, sizeof(ok)) != sizeof(ok) || ok)
		return -ENOMEM;
	return 0;
}

/* Have the survivor read every page back: pages that mismatch, or -1. */
long long survivor_check(struct survivor *s)
{
	long long bad;
	char byte = 'r';

	if (write(s->cmd, &byte, 1) != 1 ||
	    read(s->res, &bad, sizeof(bad)) != sizeof(bad))
		return -1;
	return bad;
}

/* End the survivor: its memory is released by its exit.  0 or -errno. */
int survivor_stop(struct survivor *s)
{
	int status;

	close(s->cmd);
	close(s->res);
	if (waitpid(s->pid, &status, 0) != s->pid)
		return -errno;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -ECHILD;
}
