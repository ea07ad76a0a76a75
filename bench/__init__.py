"""Benchmarks: ``python -m bench`` compares the naive baseline with the generation service."""
