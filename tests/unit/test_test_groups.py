"""`make test`'s scheduling: one group of tests runs on one worker (tests/conftest.py).

Each end-to-end folder is one xdist group so that its stack starts once; when the grouping
silently stops working (pytest 9 with xdist 3.8 did), every test is scheduled alone and both
workers start the same servers, which cost the suite minutes without failing anything else.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from opastin.config import ROOT


@pytest.mark.slow  # a whole pytest run in a subprocess
def test_tests_of_one_group_run_on_one_worker():
    done = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-v",
            "-p", "no:cacheprovider", "tests/unit/test_stats.py", "tests/unit/test_spelling.py",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:]
    workers: dict[str, set[str]] = {}
    for worker, test_file in re.findall(r"\[(gw\d)\].*?PASSED (tests/\S+?\.py)::", done.stdout):
        workers.setdefault(test_file, set()).add(worker)
    assert set(workers) == {"tests/unit/test_stats.py", "tests/unit/test_spelling.py"}
    assert all(len(w) == 1 for w in workers.values()), workers
