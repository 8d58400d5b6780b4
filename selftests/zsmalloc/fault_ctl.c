// SPDX-License-Identifier: GPL-2.0
/*
 * fault_ctl: arm fault points before a workload and read counters after it,
 * for zsbed's fault scenarios.
 *
 *	fault_ctl set PATH=VALUE...	write each value (one KTAP case each)
 *	fault_ctl dump PATH...		print each counter as a KTAP diagnostic:
 *		# counter PATH VALUE		for a file holding one number
 *		# counter PATH:NAME VALUE	per "NAME VALUE" line otherwise
 */
#include "kselftest.h"
#include "zram_lib.h"

static int dump(const char *path)
{
	char line[256], name[128];
	unsigned long long val;
	int lines = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%127s %llu", name, &val) == 2)
			printf("# counter %s:%s %llu\n", path, name, val);
		else if (sscanf(line, "%llu", &val) == 1)
			printf("# counter %s %llu\n", path, val);
		else
			continue;
		lines++;
	}
	fclose(f);
	return lines ? 0 : -ENODATA;
}

int main(int argc, char **argv)
{
	int i, err;

	ksft_print_header();
	if (argc < 3 || (strcmp(argv[1], "set") && strcmp(argv[1], "dump")))
		ksft_exit_fail_msg("usage: fault_ctl set PATH=VALUE... | dump PATH...\n");
	ksft_set_plan(argc - 2);
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[1], "dump")) {
			err = dump(argv[i]);
		} else {
			char *eq = strchr(argv[i], '=');

			if (!eq) {
				err = -EINVAL;
			} else {
				*eq = '\0';
				err = sysfs_write(argv[i], eq + 1);
				*eq = '=';
			}
		}
		if (err)
			ksft_print_msg("%s %s: %s\n", argv[1], argv[i], strerror(-err));
		ksft_test_result(!err, "%s %s\n", argv[1], argv[i]);
	}
	ksft_finished();
}
