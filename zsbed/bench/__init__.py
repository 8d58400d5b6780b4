"""make bench and make pipeline-bench: the series' timings, and zsbed's own."""
