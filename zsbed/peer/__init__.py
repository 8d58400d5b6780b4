"""make peer: upstream's own zram and cgroup selftests, plain 7.3 beside the
series."""
