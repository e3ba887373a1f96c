"""Stop and start the scale suite's private PostgreSQL and Redis while Rasa keeps running.

scripts/local_services.sh started them (as the data directory's owner, `postgres` under root);
they are started again with the options the running servers report (PostgreSQL's
postmaster.opts, Redis's CONFIG GET), so nothing here repeats the script's settings.
"""

from __future__ import annotations

import glob
import os
import pwd
import shlex
import socket
import subprocess
import time
from pathlib import Path

# What a restarted Redis needs to come back as it was (bind, port, password, files).
REDIS_SETTINGS = ("bind", "port", "requirepass", "pidfile", "dir", "logfile", "save", "appendonly")


def as_owner(path: Path) -> list[str]:
    """The command prefix that runs a server as the owner of its data, as the script does."""
    owner = pwd.getpwuid(path.stat().st_uid).pw_name
    return ["runuser", "-u", owner, "--"] if os.geteuid() == 0 and owner != "root" else []


def port_open(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


class PostgresServer:
    """The tracker store's PostgreSQL: a real stop (connections cut, new ones refused)."""

    def __init__(self, services: dict[str, str]) -> None:
        self.data = Path(services["SERVICES_DATA_DIR"]) / "pg"
        self.address = (services["POSTGRES_HOST"], int(services["POSTGRES_PORT"]))
        self.pg_ctl = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))[-1]
        self.options = ""

    def stop(self) -> None:
        # postmaster.opts: the server's command line; keep all but the program and -D DIR.
        argv = shlex.split((self.data / "postmaster.opts").read_text())[1:]
        if "-D" in argv:
            del argv[argv.index("-D") : argv.index("-D") + 2]
        self.options = shlex.join(argv)
        command = [self.pg_ctl, "-D", str(self.data), "-m", "fast", "-t", "30", "stop"]
        subprocess.run(as_owner(self.data) + command, check=True, capture_output=True)
        assert not port_open(*self.address), "PostgreSQL still accepts connections"

    def start(self) -> None:
        log = self.data.parent / "postgres.log"
        command = [self.pg_ctl, "-D", str(self.data), "-l", str(log), "-w", "-t", "60"]
        command += ["-o", self.options, "start"]
        subprocess.run(as_owner(self.data) + command, check=True, capture_output=True)


class RedisServer:
    """The lock store's Redis: shut down without saving (its locks are gone), started again."""

    def __init__(self, services: dict[str, str]) -> None:
        self.data = Path(services["SERVICES_DATA_DIR"])
        self.host, self.port = services["REDIS_HOST"], int(services["REDIS_PORT"])
        self.cli = ["redis-cli", "-h", self.host, "-p", str(self.port)]
        self.cli += ["-a", services["REDIS_PASSWORD"], "--no-auth-warning"]
        self.settings: dict[str, str] = {}

    def stop(self) -> None:
        for name in REDIS_SETTINGS:
            result = subprocess.run(
                [*self.cli, "--raw", "CONFIG", "GET", name],
                check=True,
                capture_output=True,
                text=True,
            )
            lines = result.stdout.split("\n")
            self.settings[name] = lines[1] if len(lines) > 1 else ""
        subprocess.run([*self.cli, "SHUTDOWN", "NOSAVE"], capture_output=True)
        deadline = time.monotonic() + 10
        while port_open(self.host, self.port):
            assert time.monotonic() < deadline, "Redis did not shut down"
            time.sleep(0.05)

    def start(self) -> None:
        command = ["redis-server", "--daemonize", "yes"]
        for name, value in self.settings.items():
            command += [f"--{name}", value]
        subprocess.run(as_owner(self.data) + command, check=True, capture_output=True)
        deadline = time.monotonic() + 10
        while True:
            ping = subprocess.run([*self.cli, "PING"], capture_output=True, text=True)
            if "PONG" in ping.stdout:
                return
            assert time.monotonic() < deadline, f"Redis did not come back: {ping.stderr}"
            time.sleep(0.05)
