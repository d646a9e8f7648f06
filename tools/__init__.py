"""Developer tools that are not part of the app (benchmarks): ``python -m tools.latency``."""
