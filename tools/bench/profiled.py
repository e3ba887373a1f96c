"""Run a Python program under cProfile with a CPU-time clock, and save the profile on exit.

    python -m tools.bench.profiled OUT.prof -m module [args...]
    python -m tools.bench.profiled OUT.prof path/to/script [args...]

`python -m cProfile` measures wall time and writes nothing when a server is stopped with
SIGTERM. This wrapper counts process CPU time (so another program on the other core does not
inflate the numbers) and turns SIGTERM into a normal exit, so `Stack.stop()` leaves a profile.
It runs in either venv (standard library only).
"""

from __future__ import annotations

import cProfile
import runpy
import signal
import sys
import time
from types import FrameType


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def main(argv: list[str]) -> int:
    if len(argv) < 2 or (argv[1] == "-m" and len(argv) < 3):
        print(__doc__, file=sys.stderr)
        return 2
    out, target = argv[0], argv[1:]
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    profile = cProfile.Profile(time.process_time)
    if target[0] == "-m":
        sys.argv = [target[1], *target[2:]]
        run = lambda: runpy.run_module(target[1], run_name="__main__", alter_sys=True)  # noqa: E731
    else:
        sys.argv = list(target)
        run = lambda: runpy.run_path(target[0], run_name="__main__")  # noqa: E731
    profile.enable()
    try:
        run()
    except (SystemExit, KeyboardInterrupt):
        pass
    finally:
        profile.disable()
        profile.dump_stats(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
