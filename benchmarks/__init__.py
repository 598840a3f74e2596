"""Benchmarks: figures and ratios against peers, never pass/fail timing."""
