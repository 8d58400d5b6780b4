"""The pass/fail rules: a case's outcome (outcome), a boot's (boot), a
scenario's bounds, skips and repeated runs (verdict, flaky), the contract
check of the KUnit cases (contract), and the gates of the commands that
judge many runs at once: mutants, coverage, the mutation score (gates)."""
