// SPDX-License-Identifier: GPL-2.0
/*
 * bench_munmap: the series' munmap benchmark, one run.
 *
 *	bench_munmap [-n procs] [-m MiB] [-x munmap|exit] [-t timeout ms]
 *
 * Each of -n processes maps -m MiB of anonymous memory, writes it,
 * MADV_PAGEOUTs it to zram (lzo-rle), and waits. Then all of them release
 * it at once: munmap() (each process times its own call), or exit (timed
 * from the release until the parent has reaped it). Afterwards the parent
 * waits until zram's mem_used_total is back at its baseline, that is until
 * every zs_free() has run, deferred or not, and reports:
 *
 *	# bench release_ms <median over the processes>
 *	# bench release_max_ms <slowest process>
 *	# bench drain_ms <release start -> memory back>
 *	# bench cpu_ms <CPU time of all vCPUs, release start -> memory back>
 *
 * cpu_ms comes from /proc/stat (user + nice + system + irq + softirq of
 * every CPU), so work moved to a worker is counted as well as the
 * munmap() itself. On a kernel with zs_free_deferred() and
 * CONFIG_ZSMALLOC_STAT the queue's counters follow ("# deferred zram0
 * ... queued N ... fallback_full N ..."). zsbed's make bench runs this on
 * each kernel in turn.
 */
#include <signal.h>
#include <sys/wait.h>
#include "kselftest.h"
#include "zram_lib.h"

#define MAX_PROCS 16

static struct {
	int procs;
	size_t mib;
	bool exit_mode;
	double timeout_ms;
} opt = { 1, 256, false, 60000 };

/* CPU time of the whole machine so far, in ms (USER_HZ ticks). */
static double busy_ms(void)
{
	unsigned long long user, nice, sys, idle, iowait, irq, softirq;
	FILE *f = fopen("/proc/stat", "r");
	int n;

	if (!f)
		return -1;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu",
		   &user, &nice, &sys, &idle, &iowait, &irq, &softirq);
	fclose(f);
	if (n != 7)
		return -1;
	return (user + nice + sys + irq + softirq) * 1000.0 / sysconf(_SC_CLK_TCK);
}

static void child(int idx, int ready_fd, int go_fd, double *release_ms)
{
	size_t psz = sysconf(_SC_PAGESIZE), pages = (opt.mib << 20) / psz;
	void *mem = map_paged_out(pages, psz, 0x6b000000ULL + idx);
	double start;
	char byte = 0;

	if (!mem || write(ready_fd, &byte, 1) != 1)
		_exit(2);
	if (read(go_fd, &byte, 1) < 0)
		_exit(3);
	if (opt.exit_mode)
		_exit(0);
	start = now_ms();
	munmap(mem, pages * psz);
	release_ms[idx] = now_ms() - start;
	_exit(0);
}

int main(int argc, char **argv)
{
	double *release_ms, lat[MAX_PROCS], start, cpu0, drain = -1, cpu;
	struct zram_mm_stat base, st;
	int ready[2], go[2], i, c, failed = 0;
	pid_t pids[MAX_PROCS];
	char byte;

	while ((c = getopt(argc, argv, "n:m:x:t:")) != -1) {
		if (c == 'n')
			opt.procs = atoi(optarg);
		else if (c == 'm')
			opt.mib = strtoul(optarg, NULL, 0);
		else if (c == 'x')
			opt.exit_mode = !strcmp(optarg, "exit");
		else if (c == 't')
			opt.timeout_ms = atof(optarg);
	}
	if (opt.procs < 1 || opt.procs > MAX_PROCS)
		opt.procs = 1;
	ksft_print_header();
	ksft_set_plan(4);
	ksft_print_msg("procs %d, %zu MiB each, release by %s\n", opt.procs, opt.mib,
		       opt.exit_mode ? "exit" : "munmap");
	if (zram_swap_setup((unsigned long long)opt.procs * (opt.mib << 20) * 2 + (16 << 20)) ||
	    zram_mm_stat(&base))
		ksft_exit_fail_msg("zram swap set-up failed\n");
	ksft_test_result_pass("setup\n");

	release_ms = mmap(NULL, sizeof(double) * MAX_PROCS, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (release_ms == MAP_FAILED || pipe(ready) || pipe(go))
		ksft_exit_fail_perror("mmap/pipe");
	for (i = 0; i < opt.procs; i++) {
		pids[i] = fork_worker(ready, go);
		if (pids[i] < 0)
			ksft_exit_fail_perror("fork");
		if (!pids[i])
			child(i, ready[1], go[0], release_ms);
	}
	close(ready[1]);
	close(go[0]);
	for (i = 0; i < opt.procs; i++)
		if (read(ready[0], &byte, 1) != 1)
			break;
	zram_mm_stat(&st);
	ksft_print_msg("stored %llu bytes in %llu bytes of zsmalloc memory\n",
		       st.orig_data_size - base.orig_data_size, st.mem_used_total);
	ksft_test_result(i == opt.procs &&
			 st.orig_data_size - base.orig_data_size >=
			 (unsigned long long)opt.procs * (opt.mib << 20) / 10 * 9, "pageout\n");

	cpu0 = busy_ms();
	start = now_ms();
	close(go[1]);				/* release, all at once */
	for (i = 0; i < opt.procs; i++) {
		int status;

		waitpid(pids[i], &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			failed++;
		lat[i] = opt.exit_mode ? now_ms() - start : release_ms[i];
	}
	ksft_test_result(!failed, "released\n");

	/* memory back: every zs_free() done, on the caller's path or in a worker */
	while (now_ms() - start < opt.timeout_ms) {
		if (!zram_mm_stat(&st) && st.mem_used_total <= base.mem_used_total) {
			drain = now_ms() - start;
			break;
		}
		usleep(500);
	}
	cpu = busy_ms() - cpu0;
	qsort(lat, opt.procs, sizeof(lat[0]), cmp_double);
	ksft_print_msg("bench release_ms %.3f\n", lat[opt.procs / 2]);
	ksft_print_msg("bench release_max_ms %.3f\n", lat[opt.procs - 1]);
	ksft_print_msg("bench drain_ms %.3f\n", drain);
	ksft_print_msg("bench cpu_ms %.1f\n", cpu);
	ksft_test_result(drain >= 0, "memory_returned\n");
	print_all_deferred();		/* where the frees went, on a deferring kernel */
	zram_swap_teardown();
	ksft_finished();
}
