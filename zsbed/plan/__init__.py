"""What a boot runs and what it yields: the selftest plan, the fault
scenarios, the plan line zsbed-init reads, KTAP and the console log."""
