"""Benchmarks of the offline plan and the test command."""
