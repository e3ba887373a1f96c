"""Run time is offline: both servers answer with no network, and never try to reach one.

The servers run in a new network namespace that has only loopback (`unshare --net`), so a
download or a telemetry call could not succeed; strace records every connect() of every
process, so even an attempt that fails quietly is caught.
"""

from __future__ import annotations

import ipaddress
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HELPER = Path(__file__).with_name("offline_conversation.py")
TOOLS = ("unshare", "strace", "ip")
# connect(7, {sa_family=AF_INET, sin_port=htons(5005), sin_addr=inet_addr("127.0.0.1")}, 16)
INET = re.compile(
    r'connect\(\d+, \{sa_family=AF_INET6?, .*?(?:inet_addr\("|inet_pton\(AF_INET6, ")([^"]+)"'
)


def outside_addresses(trace: str) -> set[str]:
    """Addresses other than loopback that some process tried to connect to."""
    return {
        address
        for address in INET.findall(trace)
        if not ipaddress.ip_address(address).is_loopback
        and not ipaddress.ip_address(address).is_unspecified
    }


def test_the_trace_parser_sees_an_outside_connect():
    line = 'connect(9, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("1.2.3.4")}, 16)'
    local = (
        'connect(9, {sa_family=AF_INET, sin_port=htons(5005), sin_addr=inet_addr("127.0.0.1")}, 16)'
    )
    six = (
        "connect(9, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), "
        'inet_pton(AF_INET6, "2001:db8::1", &sin6_addr), sin6_scope_id=0}, 28)'
    )
    assert outside_addresses("\n".join([line, local, six])) == {"1.2.3.4", "2001:db8::1"}


@pytest.mark.slow
def test_servers_answer_without_a_network_and_attempt_none(prepared: Path, tmp_path: Path):
    tools = {t: shutil.which(t, path="/usr/sbin:/usr/bin:/sbin:/bin") for t in TOOLS}
    missing = [t for t, path in tools.items() if not path]
    assert not missing, f"{missing} missing: scripts/system_deps.sh installs them"
    trace = tmp_path / "connect.trace"
    script = (
        f'"{tools["ip"]}" link set lo up && exec "{tools["strace"]}" -f -qq --seccomp-bpf '
        "-e trace=connect "
        f'-o "{trace}" "{sys.executable}" "{HELPER}" "{prepared}" "{tmp_path}"'
    )
    run = subprocess.run(
        [tools["unshare"], "--net", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    named = json.loads(run.stdout.strip().splitlines()[-1])
    assert named["How do I get a tax card?"][0] == "vero"
    assert named["I need a residence permit"][0] == "migri"
    assert named["Miten saan verokortin?"][0] == "vero"
    text = trace.read_text()
    assert "127.0.0.1" in text, "strace recorded the servers' own loopback traffic"
    assert outside_addresses(text) == set(), "a process tried to reach the network"
