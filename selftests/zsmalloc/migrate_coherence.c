// SPDX-License-Identifier: GPL-2.0
/*
 * migrate_coherence: a probe of the platform, not of zsmalloc.  A task
 * writes a round number into every page of its memory and reads it back
 * after a system call, round after round, while a second task runs
 * /proc/sys/vm/compact_memory in a loop, so the first task's pages are
 * migrated while it runs in user space.  Every write must survive.
 *
 * On UML with SMP they do not always survive: UML has no TLB shootdown,
 * and a task keeps writing to a migrated page's old copy until it next
 * enters the kernel.  -l applies the protection the storm tests use
 * (pin_against_compaction(): the memory is mlocked and compaction leaves
 * mlocked pages alone), and with it no write may be lost.
 *
 *	migrate_coherence [-m MiB] [-r rounds] [-l]
 */
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include "kselftest.h"
#include "zram_lib.h"

int main(int argc, char **argv)
{
	size_t mib = 32, rounds = 300, psz = sysconf(_SC_PAGESIZE), words, pages, i, r;
	size_t lost = 0, storm_rounds;
	double deadline;
	volatile unsigned long *mem, *shared;
	bool pin = false;
	pid_t storm;
	int opt, err;

	while ((opt = getopt(argc, argv, "m:r:l")) != -1) {
		if (opt == 'm')
			mib = strtoul(optarg, NULL, 0);
		else if (opt == 'r')
			rounds = strtoul(optarg, NULL, 0);
		else if (opt == 'l')
			pin = true;
	}
	ksft_print_header();
	ksft_set_plan(2);
	if (pin) {
		err = pin_against_compaction(MCL_CURRENT | MCL_FUTURE);
		if (err)
			ksft_exit_fail_msg("pin_against_compaction: %s\n", strerror(-err));
	}
	pages = (mib << 20) / psz;
	words = psz / sizeof(*mem);
	shared = mmap(NULL, psz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	mem = mmap(NULL, pages * psz, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (mem == MAP_FAILED || shared == MAP_FAILED)
		ksft_exit_fail_perror("mmap");
	storm = fork();
	if (storm < 0)
		ksft_exit_fail_perror("fork");
	if (!storm) {
		for (;;)
			if (!sysfs_write("/proc/sys/vm/compact_memory", "1"))
				(*shared)++;
	}
	/*
	 * At least the rounds asked for, and on until two compactions have
	 * completed, so that one at least ran whole while we wrote (a slow
	 * machine, TCG, can finish the rounds before the first one ends).
	 */
	deadline = now_ms() + 60000;
	for (r = 1; r <= rounds || (*shared < 2 && now_ms() < deadline); r++) {
		for (i = 0; i < pages; i++)
			mem[i * words] = r;
		sched_yield();		/* enter the kernel: UML syncs its mappings */
		for (i = 0; i < pages; i++)
			lost += mem[i * words] != r;
	}
	storm_rounds = *shared;
	kill(storm, SIGKILL);
	waitpid(storm, NULL, 0);
	if (pin)
		sysfs_write("/proc/sys/vm/compact_unevictable_allowed", "1");
	ksft_print_msg("%zu rounds over %zu pages, %zu compactions: %zu lost writes%s\n",
		       r - 1, pages, storm_rounds, lost, pin ? " (memory mlocked)" : "");
	ksft_print_msg("counter migrate.lost_writes %zu\n", lost);
	ksft_test_result(storm_rounds >= 2, "compaction_ran\n");
	ksft_test_result(lost == 0, "writes_survive_migration\n");
	ksft_finished();
}
