// SPDX-License-Identifier: GPL-2.0
/*
 * gcov_collect: copy the kernel's gcov counters out of the guest.
 *
 *	gcov_collect <destdir> [-r]
 *
 * Every *.gcda under /sys/kernel/debug/gcov (CONFIG_GCOV_KERNEL; only the
 * objects built with GCOV_PROFILE_<obj>=y are there) is copied to
 * <destdir>, keeping its path relative to the gcov directory, which is the
 * object's path in the build tree.  With -r the counters are then reset,
 * so that the next collection holds only what ran in between: zsbed runs
 * it after every program of a coverage boot (and first, for what ran at
 * boot), to count the hits of each phase apart.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "kselftest.h"

#define GCOV_ROOT "/sys/kernel/debug/gcov"

static const char *dest;
static int copied, failed;

static int mkdirs(char *path)
{
	char *slash;

	for (slash = strchr(path + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(path, 0755) && errno != EEXIST) {
			*slash = '/';
			return -errno;
		}
		*slash = '/';
	}
	return 0;
}

static int copy(const char *from, char *to)
{
	char buf[65536];
	int in, out, err = 0;
	ssize_t n;

	if (mkdirs(to))
		return -errno;
	in = open(from, O_RDONLY);
	if (in < 0)
		return -errno;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out < 0) {
		err = -errno;
		close(in);
		return err;
	}
	/* debugfs reports no size: read until EOF */
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (write(out, buf, n) != n) {
			err = -EIO;
			break;
		}
	}
	if (n < 0)
		err = -errno;
	close(in);
	close(out);
	return err;
}

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	char to[PATH_MAX];
	size_t len = strlen(path);
	int err;

	(void)st;
	(void)ftw;
	if (type != FTW_F || len < 5 || strcmp(path + len - 5, ".gcda"))
		return 0;
	snprintf(to, sizeof(to), "%s%s", dest, path + strlen(GCOV_ROOT));
	err = copy(path, to);
	if (err) {
		ksft_print_msg("%s: %s\n", path, strerror(-err));
		failed++;
	} else {
		copied++;
	}
	return 0;
}

int main(int argc, char **argv)
{
	ksft_print_header();
	ksft_set_plan(1);
	if (argc != 2 && (argc != 3 || strcmp(argv[2], "-r")))
		ksft_exit_fail_msg("usage: gcov_collect <destdir> [-r]\n");
	if (access(GCOV_ROOT, F_OK))
		ksft_exit_skip("no %s (CONFIG_GCOV_KERNEL off?)\n", GCOV_ROOT);
	dest = argv[1];
	if (nftw(GCOV_ROOT, visit, 16, FTW_PHYS))
		ksft_exit_fail_perror("nftw");
	ksft_print_msg("copied %d .gcda files to %s\n", copied, dest);
	if (argc == 3) {
		int fd = open(GCOV_ROOT "/reset", O_WRONLY);

		if (fd < 0 || write(fd, "1", 1) != 1) {
			ksft_print_msg("reset: %s\n", strerror(errno));
			failed++;
		}
		if (fd >= 0)
			close(fd);
	}
	ksft_test_result(copied > 0 && !failed, "gcov_collected\n");
	ksft_finished();
}
