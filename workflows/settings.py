"""Where things live: the one place that reads the environment.

Every path has a default under `var/` in the repository; an environment variable overrides it.
Resolve settings at call time (not import time) so tests can point them at `tmp_path`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    warehouse_path: Path
    export_dir: Path
    report_dir: Path
    config_dir: Path
    dagster_home: Path

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = dict(os.environ if env is None else env)
        var = REPO_ROOT / "var"

        def path(name: str, default: Path) -> Path:
            value = env.get(name, "").strip()
            return Path(value).expanduser().resolve() if value else default

        return cls(
            landing_dir=path("LANDING_DIR", var / "landing"),
            warehouse_path=path("WAREHOUSE_PATH", var / "warehouse.duckdb"),
            export_dir=path("EXPORT_DIR", var / "exports"),
            report_dir=path("REPORT_DIR", var / "reports"),
            config_dir=path("SEGMENTATION_CONFIG_DIR", REPO_ROOT / "config"),
            dagster_home=path("DAGSTER_HOME", var / "dagster"),
        )
