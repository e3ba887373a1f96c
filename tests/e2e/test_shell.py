"""`make shell` (`opastin shell`): Rasa's own `rasa shell` on our bot, in a real terminal.

The runner must give Rasa what nobody remembers (our components and policies on PYTHONPATH,
the endpoints' variables, the action server running); a missing piece shows up here as a
crash at load time or as the "temporarily unavailable" reply instead of the answer.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
from pathlib import Path

import pexpect
import pytest

from opastin.config import ROOT
from tools.servers import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
PROMPT = "Your input ->"


def port_is_closed(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_shell_answers_in_the_terminal_and_stops_the_action_server(
    prepared: Path, tmp_path: Path
) -> None:
    actions_port = free_port()
    env = {
        **os.environ,
        "OPASTIN_RASA_PORT": str(free_port()),
        "OPASTIN_ACTIONS_PORT": str(actions_port),
        "OPASTIN_TRACKER_DB": str(tmp_path / "tracker.db"),
    }
    shell = pexpect.spawn(
        sys.executable,
        ["-m", "opastin", "shell"],
        cwd=str(ROOT),
        env=env,
        encoding="utf-8",
        timeout=300,
        dimensions=(50, 200),
    )
    shell.logfile_read = (tmp_path / "shell.log").open("w")
    try:
        shell.expect_exact(PROMPT)
        shell.sendline("How do I get a tax card?")
        shell.expect_exact("Finnish Tax Administration handles this")
        shell.expect_exact(PROMPT)
        shell.sendline("/stop")
        shell.expect(pexpect.EOF, timeout=60)
        shell.close()
        assert shell.exitstatus == 0, (tmp_path / "shell.log").read_text()[-2000:]
        assert port_is_closed(actions_port), "the action server outlived the shell"
    finally:
        if shell.isalive():  # Ctrl-C first: the runner then stops the action server
            shell.kill(signal.SIGINT)
            shell.expect(pexpect.EOF, timeout=30)
        shell.close(force=True)
