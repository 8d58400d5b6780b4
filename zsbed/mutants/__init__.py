"""Mutants: the hand-written broken kernels (handwritten), and the ones
generated from every line the series adds (generate, runner, score)."""
