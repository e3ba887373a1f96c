"""Headless Chromium for the widget and console browser tests: the tools and one driver run.

The browser is Debian's chromium (scripts/setup_web.sh --browser installs it; `make test` runs
that), driven by playwright-core from node_modules. A missing tool fails the test with the
command that fixes it: browser tests are never skipped.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from opastin.config import ROOT
from tests.e2e.conftest import ARTIFACTS

CHROMIUM = Path("/usr/bin/chromium")  # Debian's package; playwright cannot download one here
SETUP_HINT = "run scripts/setup_web.sh --browser (`make test` does)"


def require_browser(*extra: tuple[str, bool]) -> None:
    """Fail, never skip, when Chromium, node, playwright-core or an `extra` (what, present) is
    missing."""
    missing = [
        what
        for what, present in [
            (f"Chromium at {CHROMIUM}", CHROMIUM.exists()),
            ("node", shutil.which("node") is not None),
            ("node_modules/playwright-core", (ROOT / "node_modules/playwright-core").is_dir()),
            *extra,
        ]
        if not present
    ]
    if missing:
        pytest.fail(f"missing for the browser tests: {', '.join(missing)}; {SETUP_HINT}")


def run_driver(driver: Path, config: dict[str, Any], timeout: float) -> subprocess.CompletedProcess:
    """Run a node driver script with its JSON config (plus the browser and artefact paths)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    config = {"chromium": str(CHROMIUM), "artifacts": str(ARTIFACTS), **config}
    return subprocess.run(
        ["node", str(driver), json.dumps(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def observations(result: subprocess.CompletedProcess) -> dict[str, Any]:
    """The driver's last stdout line: one JSON object of what it saw."""
    return json.loads(result.stdout.strip().splitlines()[-1])
