"""Correlation, detection and verdict: pure functions over records, no I/O."""
