"""Great Expectations is imported in the background when a run that holds suite checks begins
(data_quality/gx_import.py, the GreatExpectations resource). Each case runs in a fresh Python process:
this one has imported GX long ago."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_import_runs_in_one_background_thread_and_wait_returns_when_it_is_done():
    out = run_python("""
        import sys, threading
        from data_quality.gx_import import start_gx_import, wait_for_gx
        wait_for_gx()  # nothing started: returns at once
        assert "great_expectations" not in sys.modules
        start_gx_import(); start_gx_import()
        threads = [t for t in threading.enumerate() if t.name == "gx-import"]
        wait_for_gx()
        modules = [m in sys.modules for m in ("great_expectations", "great_expectations.expectations",
                                              "data_quality.gx_validate")]
        print(len(threads), modules, any(t.name == "gx-import" for t in threading.enumerate()))
    """)
    assert out == "1 [True, True, True] False"


def test_a_run_with_the_resource_starts_the_import_before_its_first_step():
    out = run_python("""
        import sys, threading
        from dagster import asset, materialize
        from data_quality.gx_import import wait_for_gx
        from workflows.resources import GreatExpectations

        seen = {}

        @asset
        def first(gx: GreatExpectations):
            seen["started"] = any(t.name == "gx-import" for t in threading.enumerate()) or "great_expectations" in sys.modules
            wait_for_gx()
            seen["imported"] = "great_expectations.expectations" in sys.modules

        assert "great_expectations" not in sys.modules
        assert materialize([first], resources={"gx": GreatExpectations()}).success
        print(seen["started"], seen["imported"])
    """)
    assert out == "True True"
