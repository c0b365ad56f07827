"""The benchmark harness behind `make bench` (issue 8): bench-scale data generated once and reused,
the DuckDB read floor, full and incremental nightly runs in subprocesses, per-asset timings from the
Dagster instance, peak RSS of each run's process tree, and `report.json` / `report.md`.

    python -m bench.run --scale 1        # what `make bench` runs
    python -m bench.run --quick          # scale 0.01, for a quick check of the harness itself
"""
