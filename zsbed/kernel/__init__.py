"""The kernel side: fetch Linux 7.3, apply the series, configure a variant,
build it, and check the patches (checkpatch, each patch builds on its own)."""
