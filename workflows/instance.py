"""Create the persistent Dagster instance folder (`DAGSTER_HOME`) with its `dagster.yaml`.

SQLite run storage by default (no `storage:` key). For a team, switch to Postgres by adding, e.g.:

    storage:
      postgres:
        postgres_url: {env: DAGSTER_PG_URL}

(and `pip install dagster-postgres==0.29.27`). Runs are queued one at a time because every run
writes the same DuckDB file, which allows a single writing process.
"""
from __future__ import annotations

import sys
from pathlib import Path

DAGSTER_YAML = """\
# Written by `make` (workflows/instance.py); edit freely, it is only created when missing.
# One run at a time: every run writes the same DuckDB file (a single writer is allowed).
concurrency:
  runs:
    max_concurrent_runs: 1
telemetry:
  enabled: false
nux:
  enabled: false
"""


def ensure_instance(home: Path) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    return config


if __name__ == "__main__":
    ensure_instance(Path(sys.argv[1]))
