// SPDX-License-Identifier: GPL-2.0
/*
 * peer_setup: the machine upstream's cgroup tests expect to find.
 *
 * A distribution's boot brings up the loopback interface and swap; zsbed's
 * init does neither.  test_zswap and test_memcontrol's swap cases need a
 * swap device and, for test_zswap, zswap enabled; test_memcg_sock connects
 * to "localhost".  make peer runs this between upstream's zram.sh and the
 * cgroup tests, on both of its kernels, so that they see the same machine.
 *
 *	peer_setup [-z] [-m MiB]
 *
 * Brings lo up, swaps to zram0 (-m MiB, default 512) and with -z enables
 * zswap in front of it (lzo, max_pool_percent 50).  It stays so for the
 * rest of the boot.
 */
#include <net/if.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "kselftest.h"
#include "zram_lib.h"

/* ifconfig lo up: 0 or -errno */
static int loopback_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr))
		err = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!err && ioctl(fd, SIOCSIFFLAGS, &ifr))
		err = -errno;
	close(fd);
	return err;
}

int main(int argc, char **argv)
{
	unsigned long long mib = 512;
	bool zswap = false;
	int opt, err;

	while ((opt = getopt(argc, argv, "zm:")) != -1) {
		if (opt == 'z')
			zswap = true;
		else if (opt == 'm')
			mib = strtoull(optarg, NULL, 0);
		else
			ksft_exit_fail_msg("usage: peer_setup [-z] [-m MiB]\n");
	}
	ksft_print_header();
	if (access(ZRAM_SYS, F_OK))
		ksft_exit_fail_msg("no %s (CONFIG_ZRAM off?)\n", ZRAM_SYS);
	ksft_set_plan(2);
	err = loopback_up();
	if (err)
		ksft_print_msg("lo: %s\n", strerror(-err));
	ksft_test_result(!err, "loopback_up\n");
	err = zswap ? zswap_on_zram_setup(mib << 20) : zram_swap_setup(mib << 20);
	if (err)
		ksft_print_msg("swap set-up: %s\n", strerror(-err));
	ksft_test_result(!err, "%s\n", zswap ? "zswap_on_zram" : "swap_on_zram");
	ksft_finished();
}
