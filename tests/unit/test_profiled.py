"""tools.bench.profiled: a server stopped with SIGTERM still leaves a CPU-time profile."""

from __future__ import annotations

import pstats
import signal
import subprocess
import sys
import time
from pathlib import Path

from opastin.config import ROOT

BUSY_SERVER = """
import time
def spin_until_stopped():
    while True:
        sum(i * i for i in range(10000))
        time.sleep(0.01)
print("ready", flush=True)
spin_until_stopped()
"""


def test_sigterm_ends_the_program_and_the_profile_names_its_functions(tmp_path: Path):
    script, out = tmp_path / "server.py", tmp_path / "server.prof"
    script.write_text(BUSY_SERVER)
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.bench.profiled", str(out), str(script)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    functions = {name for (_file, _line, name) in pstats.Stats(str(out)).stats}  # type: ignore[attr-defined]
    assert "spin_until_stopped" in functions


def test_without_a_program_it_prints_its_usage():
    done = subprocess.run(
        [sys.executable, "-m", "tools.bench.profiled", "out.prof"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert done.returncode == 2 and "python -m tools.bench.profiled" in done.stderr
