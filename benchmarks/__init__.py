"""Maintained benchmarks, run as ``python -m benchmarks.<name>``; each writes JSON and Markdown under docs/."""
