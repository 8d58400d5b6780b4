"""The pass/fail rules: a scenario's bounds, skips, repeated runs (make
flaky), the contract check of the KUnit cases."""
