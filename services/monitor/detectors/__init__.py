"""The detectors: each turns ClickHouse figures for one deployed model (or the fleet) into measurements."""
