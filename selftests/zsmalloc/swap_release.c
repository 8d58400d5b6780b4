// SPDX-License-Identifier: GPL-2.0
/*
 * swap_release: the series' hot path. N processes each fill anonymous
 * memory with a per-page verifiable pattern, page it out to zram, fault
 * part of it back and verify it, then all release it at once (munmap, exit
 * or SIGKILL), which frees their swap slots through zram_slot_free_notify().
 *
 * Afterwards: every byte that was read back matched; zram's slot
 * bookkeeping is back to its baseline at once; the zsmalloc pool's pages
 * and the deferred queue return to their baseline without any flush,
 * within -b milliseconds (the time is reported: "memory comes back
 * late"), and no handle queued on the empty array waited for a drain
 * longer than BACKSTOP_SLACK times the pool's backstop delay.  A survivor
 * process keeps a quarter as much data swapped out throughout and reads
 * it all back after the drain (with -C also while the drain runs): a drain
 * that freed a handle still in use shows up there.
 *
 *	swap_release [-n procs] [-m MiB each] [-f percent faulted back]
 *		     [-x munmap|exit|kill] [-c memory.max MiB] [-C] [-t ms]
 *		     [-b ms] [-B] [-p percent that must reach zram] [-F] [-q capacity]
 *
 * -t is how long to wait for the memory at most, -b the bound it must
 * come back within (default: -t).  -B reports the backstop's wait without
 * checking it, for fault scenarios whose pauses and injected load make
 * the wait one for a CPU.
 * -c runs everything in a memory cgroup with that memory.max, so reclaim
 * overlaps the frees; -F marks each process make-it-fail while it pages out
 * (for fault_attr task-filter: only zram's allocations then can fail);
 * -q shrinks zram0's deferred-free queue (zsmalloc's deferred_capacity
 * fault knob) right after set-up; -C runs a compaction storm (zram compact and
 * /proc/sys/vm/compact_memory in a loop) while the processes release.
 */
#include <signal.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest.h"
#include "zram_lib.h"

#define MAX_PROCS 16
#define POOL "zram0"

enum mode { MODE_MUNMAP, MODE_EXIT, MODE_KILL };

/* Shared with the compaction storm process: rounds it completed. */
static volatile unsigned long *storm_rounds;

struct child_result {
	size_t checked;		/* pages faulted back and compared */
	size_t bad;		/* of which mismatched */
	double release_ms;	/* munmap() duration (munmap mode) */
	double release_start;	/* now_ms() when the release began */
	int ready;
};

static struct {
	int procs;
	size_t mib;
	int fault_pct;
	enum mode mode;
	size_t cgroup_mib;
	bool compact;
	double timeout_ms;
	int min_pageout_pct;	/* -p 0 when a scenario makes zram writes fail */
	bool make_it_fail;	/* -F */
	const char *capacity;	/* -q */
	double bound_ms;	/* -b, 0: the same as -t */
	bool backstop_report_only;	/* -B */
} opt = { 1, 32, 50, MODE_MUNMAP, 0, false, 5000, 90, false, NULL, 0, false };

static void parse_args(int argc, char **argv)
{
	int c;

	while ((c = getopt(argc, argv, "n:m:f:x:c:Ct:b:Bp:Fq:")) != -1) {
		switch (c) {
		case 'n':
			opt.procs = atoi(optarg);
			break;
		case 'm':
			opt.mib = strtoul(optarg, NULL, 0);
			break;
		case 'f':
			opt.fault_pct = atoi(optarg);
			break;
		case 'x':
			opt.mode = !strcmp(optarg, "exit") ? MODE_EXIT :
				   !strcmp(optarg, "kill") ? MODE_KILL : MODE_MUNMAP;
			break;
		case 'c':
			opt.cgroup_mib = strtoul(optarg, NULL, 0);
			break;
		case 'C':
			opt.compact = true;
			break;
		case 't':
			opt.timeout_ms = atof(optarg);
			break;
		case 'b':
			opt.bound_ms = atof(optarg);
			break;
		case 'B':
			opt.backstop_report_only = true;
			break;
		case 'p':
			opt.min_pageout_pct = atoi(optarg);
			break;
		case 'F':
			opt.make_it_fail = true;
			break;
		case 'q':
			opt.capacity = optarg;
			break;
		default:
			ksft_exit_fail_msg("usage: swap_release [-n procs] [-m MiB] [-f pct] "
					   "[-x munmap|exit|kill] [-c MiB] [-C] [-t ms] [-b ms] [-B] [-p pct] "
					   "[-F] [-q cap]\n");
		}
	}
	if (opt.procs < 1 || opt.procs > MAX_PROCS || !opt.mib ||
	    opt.fault_pct < 0 || opt.fault_pct > 100)
		ksft_exit_fail_msg("bad arguments\n");
	if (!opt.bound_ms)
		opt.bound_ms = opt.timeout_ms;
	if (opt.bound_ms > opt.timeout_ms)
		opt.timeout_ms = opt.bound_ms;
}

/* Leave the cgroup join_memcg() made, and remove it. */
static void leave_memcg(void)
{
	char dir[64], val[32];

	snprintf(val, sizeof(val), "%d", getpid());
	sysfs_write("/sys/fs/cgroup/cgroup.procs", val);
	snprintf(dir, sizeof(dir), "/sys/fs/cgroup/zsbed.%d", getpid());
	rmdir(dir);
}

/* Put this process (and so its children) in a memory cgroup. */
static int join_memcg(size_t mib)
{
	char dir[64], path[128], val[32];
	int err;

	sysfs_write("/sys/fs/cgroup/cgroup.subtree_control", "+memory");
	snprintf(dir, sizeof(dir), "/sys/fs/cgroup/zsbed.%d", getpid());
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/memory.max", dir);
	snprintf(val, sizeof(val), "%zu", mib << 20);
	err = sysfs_write(path, val);
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	snprintf(val, sizeof(val), "%d", getpid());
	return sysfs_write(path, val);
}

static void child(int idx, int ready_fd, int go_fd, struct child_result *res)
{
	size_t psz = sysconf(_SC_PAGESIZE), pages = (opt.mib << 20) / psz;
	size_t back = pages * opt.fault_pct / 100;
	uint64_t seed = 0x5a5a0000ULL + idx;
	char byte = 0;
	void *mem;

	/* before the test memory is mapped: that must stay pageable */
	if (opt.compact && pin_against_compaction(MCL_CURRENT))
		_exit(3);
	if (opt.make_it_fail) {
		/* fault the pages in first: only the page-out may fail */
		mem = mmap(NULL, pages * psz, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (mem == MAP_FAILED)
			_exit(2);
		fill_pattern(mem, pages, psz, seed);
		sysfs_write("/proc/self/make-it-fail", "1");
		madvise(mem, pages * psz, MADV_PAGEOUT);
		sysfs_write("/proc/self/make-it-fail", "0");
	} else {
		mem = map_paged_out(pages, psz, seed);
		if (!mem)
			_exit(2);
	}
	/* Fault the first part back in and compare every page of it. */
	res->checked = back;
	res->bad = count_bad_pages(mem, back, psz, seed);
	res->ready = 1;
	if (write(ready_fd, &byte, 1) != 1)
		_exit(4);
	/* The parent closes go_fd's other end: everyone wakes at once. */
	if (read(go_fd, &byte, 1) < 0)
		_exit(5);
	res->release_start = now_ms();
	if (opt.mode == MODE_EXIT)
		_exit(0);
	if (opt.mode == MODE_KILL) {
		for (;;)
			pause();
	}
	if (munmap(mem, pages * psz))
		_exit(6);
	res->release_ms = now_ms() - res->release_start;
	_exit(0);
}

/*
 * Loop zram compaction and global compaction until killed. @go_fd is the
 * release pipe's write end: the storm must not hold it open, or closing
 * it would not release the workers.
 */
static pid_t start_compaction_storm(int go_fd)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	close(go_fd);
	if (pin_against_compaction(MCL_CURRENT | MCL_FUTURE))
		_exit(3);
	for (;;) {
		/* a round counts only if both compactions were accepted */
		if (!sysfs_write(ZRAM_SYS "/compact", "1") &&
		    !sysfs_write("/proc/sys/vm/compact_memory", "1"))
			(*storm_rounds)++;
	}
}

/* Pages stored in zram0 (mm_stat's orig_data_size), or 0. */
static unsigned long long zram_stored_pages(size_t psz)
{
	struct zram_mm_stat st;

	return zram_mm_stat(&st) ? 0 : st.orig_data_size / psz;
}

int main(int argc, char **argv)
{
	size_t total, expect_out, psz = sysconf(_SC_PAGESIZE);
	struct zs_pool_totals base_pool, pool;
	struct zram_mm_stat base, st;
	struct child_result *res;
	struct survivor surv;
	struct zs_deferred d;
	pid_t pids[MAX_PROCS], storm = 0;
	int ready[2], go[2], i, err, failed_children = 0;
	unsigned long long pending_max, surv_freed = 0;
	long long base_zspages, base_handles, zspages, handles;
	long long surv_during = 0, surv_after;
	double lat[MAX_PROCS], start, returned_ms;
	size_t bad = 0, checked = 0, surv_pages;
	bool objs_back;
	char byte;

	parse_args(argc, argv);
	ksft_print_header();
	if (access(ZRAM_SYS, F_OK))
		ksft_exit_skip("no %s (CONFIG_ZRAM off?)\n", ZRAM_SYS);
	ksft_set_plan(11 + opt.compact - opt.backstop_report_only);
	ksft_print_msg("procs %d, %zu MiB each, %d%% faulted back, release by %s%s%s\n",
		       opt.procs, opt.mib, opt.fault_pct,
		       opt.mode == MODE_EXIT ? "exit" : opt.mode == MODE_KILL ? "SIGKILL" : "munmap",
		       opt.cgroup_mib ? ", in a memory cgroup" : "",
		       opt.compact ? ", compaction storm" : "");

	total = opt.procs * (opt.mib << 20);
	surv_pages = ((opt.mib << 20) / 4) / psz;
	base_zspages = nr_zspages();	/* before zram holds its swap header */
	base_handles = zs_handle_objects();
	err = zram_swap_setup(2 * total + (16 << 20));
	/* the survivor's data is stored first, and is part of the baseline */
	if (!err)
		err = survivor_start(&surv, surv_pages, psz, 0x77770000ULL);
	if (!err)
		err = zram_mm_stat(&base);
	if (!err)
		err = zs_pool_totals(POOL, &base_pool);
	if (!err && opt.capacity)
		err = sysfs_write("/sys/kernel/debug/zsmalloc/" POOL "/deferred_capacity",
				  opt.capacity);
	if (err)
		ksft_exit_fail_msg("zram swap set-up: %s\n", strerror(-err));
	zs_deferred_reset_observed(POOL);
	ksft_test_result_pass("setup\n");

	if (opt.cgroup_mib) {
		err = join_memcg(opt.cgroup_mib);
		if (err)
			ksft_exit_fail_msg("memory cgroup: %s\n", strerror(-err));
	}

	res = mmap(NULL, sizeof(*res) * MAX_PROCS, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED || pipe(ready) || pipe(go))
		ksft_exit_fail_perror("mmap/pipe");
	memset(res, 0, sizeof(*res) * MAX_PROCS);
	for (i = 0; i < opt.procs; i++) {
		pids[i] = fork_worker(ready, go);
		if (pids[i] < 0)
			ksft_exit_fail_perror("fork");
		if (!pids[i])
			child(i, ready[1], go[0], &res[i]);
	}
	close(ready[1]);
	close(go[0]);
	for (i = 0; i < opt.procs; i++) {
		if (read(ready[0], &byte, 1) != 1)
			break;
	}

	/* Everything written is paged out, less what was faulted back. */
	zram_mm_stat(&st);
	expect_out = total - total * opt.fault_pct / 100;
	ksft_print_msg("before release: %llu bytes stored (expected about %zu)\n",
		       st.orig_data_size - base.orig_data_size, expect_out);
	ksft_test_result(st.orig_data_size - base.orig_data_size >=
			 expect_out / 100 * opt.min_pageout_pct, "pageout_to_zram\n");

	if (opt.compact) {
		storm_rounds = mmap(NULL, sizeof(*storm_rounds), PROT_READ | PROT_WRITE,
				    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (storm_rounds == MAP_FAILED)
			ksft_exit_fail_perror("mmap");
		err = pin_against_compaction(MCL_CURRENT | MCL_FUTURE);
		if (err)
			ksft_exit_fail_msg("mlockall: %s\n", strerror(-err));
		storm = start_compaction_storm(go[1]);
		/* let it get going before the release (5 s at most) */
		for (i = 0; !*storm_rounds && i < 5000; i++)
			usleep(1000);
	}
	start = now_ms();
	close(go[1]);				/* release, all at once */
	if (opt.mode == MODE_KILL) {
		for (i = 0; i < opt.procs; i++)
			kill(pids[i], SIGKILL);
	}
	for (i = 0; i < opt.procs; i++) {
		int status;

		waitpid(pids[i], &status, 0);
		if (opt.mode == MODE_KILL ? !WIFSIGNALED(status) :
		    !WIFEXITED(status) || WEXITSTATUS(status))
			failed_children++;
		lat[i] = opt.mode == MODE_MUNMAP ? res[i].release_ms : now_ms() - start;
		bad += res[i].bad;
		checked += res[i].checked;
	}
	qsort(lat, opt.procs, sizeof(lat[0]), cmp_double);
	ksft_print_msg("release_ms median %.3f max %.3f (%s)\n", lat[opt.procs / 2],
		       lat[opt.procs - 1],
		       opt.mode == MODE_MUNMAP ? "munmap" : "until reaped");

	ksft_print_msg("read back %zu pages, %zu mismatched, %d children failed\n",
		       checked, bad, failed_children);
	ksft_test_result(bad == 0 && failed_children == 0 && (checked > 0 || !opt.fault_pct),
			 "data_intact\n");

	/* zram drops the slots' bookkeeping at once, deferred or not. */
	zram_mm_stat(&st);
	ksft_print_msg("after release: %llu bytes stored (baseline %llu)\n",
		       st.orig_data_size, base.orig_data_size);
	ksft_test_result(st.orig_data_size == base.orig_data_size, "zram_slots_released\n");

	/*
	 * Under the storm, the survivor reads its data back while the drain
	 * runs.  Each page it reads leaves zram (swap-in frees the slot of a
	 * synchronous device), and its object is freed through the deferred
	 * queue like the others: the pool's baseline drops by that many.
	 */
	if (storm) {
		unsigned long long before = zram_stored_pages(psz);

		surv_during = survivor_check(&surv);
		surv_freed = before - zram_stored_pages(psz);
		ksft_print_msg("survivor: %zu pages read while the drain ran, %lld mismatched, "
			       "%llu left zram\n", surv_pages, surv_during, surv_freed);
	}

	/* zsmalloc's pages come back once the deferred frees have run. */
	returned_ms = wait_pool_returned(POOL, base_pool.pages_used, opt.timeout_ms,
					 &pending_max);
	/*
	 * With deferral the frees themselves run in the drain, after the
	 * release: the storm keeps going until the pool has given its memory
	 * back, so compaction overlaps the frees either way.
	 */
	if (storm) {
		unsigned long during = *storm_rounds;

		kill(storm, SIGKILL);
		waitpid(storm, NULL, 0);
		munlockall();
		sysfs_write("/proc/sys/vm/compact_unevictable_allowed", "1");
		ksft_print_msg("compaction storm: %lu rounds until the memory was back\n", during);
		ksft_test_result(during >= 1, "compaction_storm_ran\n");
	}
	zs_pool_totals(POOL, &pool);
	zs_deferred_read(POOL, &d);
	ksft_print_msg("pool pages %llu (baseline %llu), objects %llu/%llu (baseline %llu/%llu, "
		       "less %llu the survivor read), pending max %llu\n",
		       pool.pages_used, base_pool.pages_used, pool.obj_used, pool.obj_allocated,
		       base_pool.obj_used, base_pool.obj_allocated, surv_freed, d.pending_max);
	if (returned_ms >= 0)
		ksft_print_msg("memory returned after %.1f ms (bound %.0f ms)\n", returned_ms,
			       opt.bound_ms);
	else
		ksft_print_msg("memory not returned within %.0f ms\n", opt.timeout_ms);
	/* Every object freed, none twice; only the survivor's reads free zspages */
	objs_back = pool.obj_used == base_pool.obj_used - surv_freed &&
		    (surv_freed ? pool.obj_allocated <= base_pool.obj_allocated :
				  pool.obj_allocated == base_pool.obj_allocated);
	ksft_test_result(returned_ms >= 0 && returned_ms <= opt.bound_ms && objs_back,
			 "memory_returned\n");
	backstop_case(POOL, opt.backstop_report_only);
	ksft_test_result(deferred_counters_agree(POOL), "deferred_counters_agree\n");

	/* The survivor's data, read back after the drain. */
	surv_after = survivor_check(&surv);
	ksft_print_msg("survivor: %zu pages read after the drain, %lld mismatched\n",
		       surv_pages, surv_after);
	ksft_test_result(surv_during == 0 && surv_after == 0, "survivor_intact\n");
	err = survivor_stop(&surv);
	if (err)
		ksft_print_msg("survivor: %s\n", strerror(-err));

	print_all_deferred();
	if (opt.cgroup_mib)
		leave_memcg();
	err = zram_swap_teardown();
	ksft_test_result(!err, "teardown\n");
	/* the pool is gone: every zspage it ever allocated must be too */
	zspages = nr_zspages();
	ksft_print_msg("nr_zspages %lld after teardown (baseline %lld)\n",
		       zspages, base_zspages);
	ksft_test_result(base_zspages >= 0 && zspages == base_zspages, "zspages_returned\n");
	if (base_handles < 0) {
		ksft_print_msg("handles_returned: zs_handle is not a SLUB debug cache\n");
		ksft_test_result_skip("handles_returned\n");
	} else {
		handles = zs_handle_objects();
		ksft_print_msg("zs_handle objects %lld after teardown (baseline %lld)\n",
			       handles, base_handles);
		ksft_test_result(handles == base_handles, "handles_returned\n");
	}
	ksft_finished();
}
