"""deploy/nginx.conf's abuse limits: read from the file, then a burst against a real nginx.

The burst needs no Rasa: nginx refuses what exceeds a limit before proxying, so with the
upstreams pointed at a closed port the requests within the limit get 502 and the rest 429.
The full proxy (balancing, stickiness) runs in tests/scale/test_nginx.py.
"""

from __future__ import annotations

import os
import subprocess
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from opastin.config import ROOT
from tests.unit.test_deployment_safety import nginx_directives
from tools.servers import free_port

NGINX = "/usr/sbin/nginx"  # Debian's package (scripts/system_deps.sh)


def directives_in(block: str) -> list[list[str]]:
    return [words for blocks, words in nginx_directives() if blocks and blocks[-1] == block]


def test_requests_are_limited_per_address_and_per_socketio_session() -> None:
    top = [words for blocks, words in nginx_directives() if not blocks]
    zones = {
        words[2].split("=")[1].split(":")[0]: words[1]
        for words in top
        if words[0] == "limit_req_zone"
    }
    assert zones["socketio_per_ip"] == "$binary_remote_addr"
    assert zones["socketio_per_session"] == "$arg_sid", "one widget conversation's socket"
    assert zones["rest_per_ip"] == "$rest_client"
    socketio = [w[1] for w in directives_in("location /socket.io/") if w[0] == "limit_req"]
    assert socketio == ["zone=socketio_per_ip", "zone=socketio_per_session"]
    rest = [w[1] for w in directives_in("location /webhooks/") if w[0] == "limit_req"]
    assert rest == ["zone=rest_per_ip"]
    server = directives_in("server")
    assert ["limit_conn", "connections_per_ip", "30"] in server
    assert ["limit_req_status", "429"] in server and ["limit_conn_status", "429"] in server


def site_for_test(port: int, closed_port: int) -> str:
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    assert site.count("server rasa:5005 ") == 2 and site.count("listen 8080;") == 1
    site = site.replace("server rasa:5005 ", f"server 127.0.0.1:{closed_port} ")
    return site.replace("listen 8080;", f"listen 127.0.0.1:{port};")


@pytest.fixture(scope="module")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """deploy/nginx.conf in a private nginx whose upstreams refuse connections; its URL."""
    assert Path(NGINX).exists(), f"{NGINX} is missing (run scripts/system_deps.sh)"
    prefix = tmp_path_factory.mktemp("nginx")
    port = free_port()
    temp = " ".join(f"{kind}_temp_path {prefix}/{kind};" for kind in ("client_body", "proxy"))
    user = "user root;\n" if os.geteuid() == 0 else ""
    config = prefix / "nginx.conf"
    config.write_text(
        f"{user}worker_processes 1; daemon off; pid {prefix}/nginx.pid;\n"
        f"error_log {prefix}/error.log;\nevents {{}}\n"
        f"http {{\naccess_log off; {temp}\n{site_for_test(port, free_port())}\n}}\n"
    )
    process = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(config)])
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and status_of(url + "/health")[0] == 0:
            assert process.poll() is None, (prefix / "error.log").read_text()
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def status_of(url: str, data: bytes | None = None) -> tuple[int, str | None]:
    """Status and Retry-After of one request (0: no answer at all)."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=5) as answer:
            return answer.status, answer.headers.get("Retry-After")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Retry-After")
    except OSError:
        return 0, None


def burst(url: str, count: int, data: bytes | None = None) -> Counter[tuple[int, str | None]]:
    return Counter(status_of(url, data) for _ in range(count))


def test_a_rest_burst_from_one_address_gets_429_with_retry_after(nginx: str) -> None:
    body = b'{"sender": "me", "message": "hi"}'
    seen = burst(f"{nginx}/webhooks/rest/webhook", 40, body)
    # burst=20 passes (here to a closed upstream: 502), plus what 5 r/s refills meanwhile.
    assert 20 <= seen[(502, None)] <= 25, seen
    assert seen[(429, "5")] == 40 - seen[(502, None)], seen


def test_telegram_updates_are_not_limited_per_address(nginx: str) -> None:
    seen = burst(f"{nginx}/webhooks/telegram/webhook", 40, b"{}")
    assert set(seen) == {(502, None)}, seen


def test_a_socketio_session_is_limited_on_its_own(nginx: str) -> None:
    seen = burst(f"{nginx}/socket.io/?EIO=4&transport=polling&sid=one", 25)
    assert 11 <= seen[(502, None)] <= 14 and seen[(429, "5")] >= 11, seen
    other = burst(f"{nginx}/socket.io/?EIO=4&transport=polling&sid=two", 5)
    assert other == Counter({(502, None): 5}), "another session on the same address goes on"
