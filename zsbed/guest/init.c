// SPDX-License-Identifier: GPL-2.0
/*
 * zsbed-init: PID 1 of a zsbed UML boot.
 *
 * The host boots UML with its own / as a read-only hostfs root and passes
 * "-- <plan> <outdir>" on the kernel command line. This program mounts the
 * pseudo filesystems, a tmpfs for scratch space (/dev/shm, also $TMPDIR
 * and each program's working directory) and <outdir> (a host directory)
 * read-write through hostfs, then runs each line of <plan>:
 *
 *	<name> <timeout-seconds> <program> [args...]
 *
 * Each program's stdout and stderr go to <outdir>/<name>.ktap; its exit
 * status and run time are appended to <outdir>/status as
 *
 *	<name> <exit-code|timeout|signal-N> <milliseconds>
 *
 * and the last line is "done". Then the machine powers off. The host reads
 * status; a boot that never wrote "done" hung or crashed.
 *
 * Under QEMU (zsbed_machine=qemu on the command line, which the kernel
 * hands to init as an environment variable) the root is the host's / over
 * 9p, <outdir> is the 9p share tagged "zsbedout", and the machine restarts
 * instead of powering off: without ACPI a power-off only halts, and QEMU
 * runs with -no-reboot, so a restart ends it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * Scratch space and the results mount live under /dev (our own devtmpfs),
 * never over a host directory: the plan and the programs it runs are host
 * paths, possibly under the host's /tmp, and must stay visible.
 */
#define SCRATCH "/dev/shm"
#define OUT "/dev/zsbed-out"
#define MAX_ARGS 64

static FILE *status;
static int under_qemu;

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("zsbed-init: ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	fflush(stdout);
	va_end(ap);
}

static void must_mount(const char *src, const char *dst, const char *type,
		       const char *data)
{
	mkdir(dst, 0755);
	if (mount(src, dst, type, 0, data))
		say("mount %s on %s failed: %s", type, dst, strerror(errno));
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void power_off(void)
{
	sync();
	/* UML restarts itself on RB_AUTOBOOT; QEMU exits (-no-reboot) */
	reboot(under_qemu ? RB_AUTOBOOT : RB_POWER_OFF);
	for (;;)
		pause();
}

/* Run one plan entry; return its status word in @res. */
static void run_one(char *name, int timeout_s, char **argv, char *res,
		    size_t len)
{
	char path[512];
	long long deadline;
	pid_t pid;
	int wstatus;

	snprintf(path, sizeof(path), OUT "/%s.ktap", name);
	pid = fork();
	if (pid < 0) {
		snprintf(res, len, "fork-failed");
		return;
	}
	if (pid == 0) {
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		setpgid(0, 0);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		if (chdir(SCRATCH))
			_exit(126);
		execv(argv[0], argv);
		fprintf(stderr, "zsbed-init: exec %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	deadline = now_ms() + timeout_s * 1000LL;
	for (;;) {
		pid_t got = waitpid(pid, &wstatus, WNOHANG);

		if (got == pid)
			break;
		if (now_ms() > deadline) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, &wstatus, 0);
			snprintf(res, len, "timeout");
			return;
		}
		usleep(10000);
	}
	if (WIFEXITED(wstatus))
		snprintf(res, len, "%d", WEXITSTATUS(wstatus));
	else
		snprintf(res, len, "signal-%d", WTERMSIG(wstatus));
}

static void run_plan(const char *plan_path)
{
	char line[4096];
	FILE *plan = fopen(plan_path, "r");

	if (!plan) {
		say("cannot open plan %s: %s", plan_path, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), plan)) {
		char *argv[MAX_ARGS + 1], *name, *tmo, *save = NULL;
		char res[32];
		long long start;
		int argc = 0;

		name = strtok_r(line, " \t\n", &save);
		tmo = strtok_r(NULL, " \t\n", &save);
		if (!name || name[0] == '#' || !tmo)
			continue;
		while (argc < MAX_ARGS &&
		       (argv[argc] = strtok_r(NULL, " \t\n", &save)))
			argc++;
		argv[argc] = NULL;
		if (!argc)
			continue;
		say("running %s", name);
		start = now_ms();
		run_one(name, atoi(tmo), argv, res, sizeof(res));
		fprintf(status, "%s %s %lld\n", name, res, now_ms() - start);
		fflush(status);
		fsync(fileno(status));
		say("%s: %s", name, res);
	}
	fclose(plan);
}

int main(int argc, char **argv)
{
	const char *machine = getenv("zsbed_machine");

	setvbuf(stdout, NULL, _IOLBF, 0);
	under_qemu = machine && !strcmp(machine, "qemu");
	if (argc < 3) {
		say("usage: init=zsbed-init -- <plan> <outdir>");
		power_off();
	}
	must_mount("proc", "/proc", "proc", NULL);
	must_mount("sysfs", "/sys", "sysfs", NULL);
	must_mount("devtmpfs", "/dev", "devtmpfs", NULL);
	must_mount("tmpfs", SCRATCH, "tmpfs", "size=64m");
	must_mount("debugfs", "/sys/kernel/debug", "debugfs", NULL);
	must_mount("cgroup2", "/sys/fs/cgroup", "cgroup2", NULL);
	if (under_qemu)
		must_mount("zsbedout", OUT, "9p", "trans=virtio,version=9p2000.L");
	else
		must_mount("none", OUT, "hostfs", argv[2]);
	setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
	setenv("TMPDIR", SCRATCH, 1);
	/*
	 * UML has no TLB shootdown: a page of ours migrated while we run in
	 * user space on the other CPU is lost to us (README, "A UML
	 * limitation"). The storm tests set vm.compact_unevictable_allowed=0,
	 * so locked pages stay where they are. Our children do not inherit it.
	 */
	if (mlockall(MCL_CURRENT | MCL_FUTURE))
		say("mlockall: %s (init's pages may be migrated)", strerror(errno));

	status = fopen(OUT "/status", "w");
	if (!status) {
		say("cannot write %s/status: %s", argv[2], strerror(errno));
		power_off();
	}
	run_plan(argv[1]);
	fprintf(status, "done\n");
	fclose(status);
	say("plan finished, powering off");
	power_off();
	return 0;
}
