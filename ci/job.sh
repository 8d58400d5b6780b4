#!/usr/bin/env bash
# The job CI runs (GitHub Actions and .ci/run): make sure make and python3
# exist, then run make with the given targets and variables (default:
# check; a matrix job: e.g. `fault SHARD=1/3`). As root on a fresh Debian
# machine this is all the set-up there is.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-check}
need=()
command -v make >/dev/null || need+=(make)
[ -x /usr/bin/python3 ] || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "ci/job.sh: missing ${need[*]}; install them (sudo apt-get install ${need[*]})" >&2
		exit 2
	fi
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
shift || true
# UML maps its memory from $TMPDIR, else /dev/shm, and cannot start from a
# noexec directory, which is how Docker mounts a container's /dev/shm. As
# root (GitHub's job containers run privileged), give UML an exec tmpfs of
# its own; where that mount is refused, zsbed picks an exec-capable
# directory itself, or says in one line that there is none.
noexec() { awk -v d="$1" '$2 == d && $4 ~ /(^|,)noexec(,|$)/ {f = 1} END {exit !f}' /proc/mounts; }
mounted() { awk -v d="$1" '$2 == d {f = 1} END {exit !f}' /proc/mounts; }
if [ -z "${TMPDIR:-}" ] && [ "$(id -u)" = 0 ] && noexec /dev/shm; then
	uml=/run/zsbed-uml
	mkdir -p "$uml"
	if mounted "$uml" || mount -t tmpfs -o size=4g,mode=1777 zsbed-uml "$uml" 2>/dev/null; then
		export TMPDIR=$uml
		echo "ci/job.sh: /dev/shm is mounted noexec; UML's memory goes to TMPDIR=$uml (tmpfs)"
	fi
fi
rc=0
make "$target" "$@" || rc=$?
# On GitHub, the run's page gets the results' table and first failure.
if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -e results/latest/summary.json ]; then
	make -s summary >> "$GITHUB_STEP_SUMMARY" || true
fi
exit "$rc"
