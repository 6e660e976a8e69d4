"""Benchmark suites for `manage.py bench SUITE` (never part of the tests' pass/fail)."""
