"""pytest plugin: one screenshot folder per test run, shared by all xdist workers, named in the summary.

The folder is test-artifacts/screenshots/<run id>, the run id being $TEST_RUN_ID or the time the run began.
tests/browser/conftest.py loads this plugin, which is enough for `pytest tests/browser` (with or without -n).
For the folder to be named at the end of a whole-suite `pytest -n 2` too, the controlling process must load it
early: `pytest_plugins = ["tests.browser.artifacts"]` in tests/conftest.py, or `-p tests.browser.artifacts`.
"""

from __future__ import annotations

import os
import re
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from grants.core.config import PROJECT_ROOT

SCREENSHOT_ROOT = PROJECT_ROOT / "test-artifacts" / "screenshots"


def _timestamp() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S")


def _clean(run_id: str) -> str:
    return re.sub(r"[^\w.-]", "_", run_id)


def pytest_configure(config: pytest.Config) -> None:
    """On the controlling process, fix the run id before xdist starts its workers: they inherit the environment."""
    if not hasattr(config, "workerinput") and not os.environ.get("TEST_RUN_ID"):
        os.environ["TEST_RUN_ID"] = _timestamp()


def screenshot_folder(config: pytest.Config) -> Path:
    """This run's folder (not created until something is saved in it)."""
    if os.environ.get("TEST_RUN_ID"):
        return SCREENSHOT_ROOT / _clean(os.environ["TEST_RUN_ID"])
    # A worker whose controller did not load this plugin: the first worker to get here picks the timestamp,
    # the others read it, keyed by xdist's id for this run.
    uid = _clean(getattr(config, "workerinput", {}).get("testrunuid", ""))
    if not uid:
        return SCREENSHOT_ROOT / _timestamp()
    marker = SCREENSHOT_ROOT / ".runs" / uid
    marker.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(marker, "x") as fh:
            fh.write(_timestamp())
    except FileExistsError:
        for _ in range(100):
            if marker.read_text().strip():
                break
            time.sleep(0.02)
    return SCREENSHOT_ROOT / marker.read_text().strip()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    folder = screenshot_folder(config) if os.environ.get("TEST_RUN_ID") else None
    if folder is not None and folder.is_dir():
        terminalreporter.write_sep("-", "browser screenshots")
        terminalreporter.write_line(f"Screenshots of this run: {folder}")
