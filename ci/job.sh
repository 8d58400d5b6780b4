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
exec make "$target" "$@"
