"""A missing or corrupt index stops the action server at start-up with a message that helps."""

from __future__ import annotations

import os
import subprocess
import sys

from opastin.config import ROOT


def start_actions(var_dir) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPASTIN_VAR_DIR": str(var_dir), "OPASTIN_ACTIONS_PORT": "1"}
    return subprocess.run(
        [sys.executable, "-m", "actions.server"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_missing_index_fails_fast_saying_how_to_build_it(tmp_path):
    result = start_actions(tmp_path)
    assert result.returncode == 2
    assert "no search index" in result.stderr and "make index" in result.stderr
    assert "Traceback" not in result.stderr


def test_corrupt_index_fails_fast(tmp_path, mini_index):
    index = tmp_path / "index"
    index.mkdir()
    (index / "manifest.json").write_text("{not json")
    result = start_actions(tmp_path)
    assert result.returncode == 2
    assert "corrupt index manifest" in result.stderr and "make index" in result.stderr


def test_invalid_setting_fails_fast(tmp_path):
    env = {**os.environ, "OPASTIN_TOP_K": "many"}
    result = subprocess.run(
        [sys.executable, "-m", "actions.server"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert "OPASTIN_TOP_K" in result.stderr and "Traceback" not in result.stderr
