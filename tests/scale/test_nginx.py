"""deploy/nginx.conf, as it is, in front of the two local Rasa instances.

Why: the production entry point balances REST over the replicas and must keep a socket.io
polling session on one instance (engine.io keeps its state in one process; a request that
lands elsewhere is refused). Only the upstream addresses, the listening port and the web root
are replaced, and a header naming the answering instance is added; everything else is the
file docker-compose.yml mounts.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from opastin.config import ROOT
from tests.scale.conftest import ARTIFACTS
from tools.loadtest import LoadPlan, LoadReport, LocalTopology, audit, run_load
from tools.servers import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
NGINX = "/usr/sbin/nginx"  # Debian's package (scripts/system_deps.sh)
UPSTREAM = "    server rasa:5005 max_fails=1 fail_timeout=5s;"


def local_config(topology: LocalTopology, port: int, prefix: str) -> str:
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    assert site.count(UPSTREAM) == 2 and site.count("listen 8080;") == 1
    servers = "\n".join(
        f"    server {urlsplit(url).netloc} max_fails=1 fail_timeout=5s;"
        for url in topology.rasa_urls
    )
    # Which instance answered, for the balancing test only: production never sends it.
    listen = f"listen 127.0.0.1:{port};\n    add_header X-Rasa-Upstream $upstream_addr always;"
    site = site.replace(UPSTREAM, servers).replace("listen 8080;", listen)
    site = site.replace("root /usr/share/nginx/html;", f"root {ROOT / 'web'};")
    temp = " ".join(
        f"{kind}_temp_path {prefix}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # Under root, workers would run as `nobody`, who may not read a checkout in a private home.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}worker_processes 1; daemon off; pid {prefix}/nginx.pid;\n"
        f"error_log {prefix}/error.log;\n"
        f"events {{}}\nhttp {{\naccess_log {prefix}/access.log; {temp}\n{site}\n}}\n"
    )


@pytest.fixture(scope="module")
def proxy(topology: LocalTopology) -> Iterator[str]:
    prefix = ARTIFACTS / "nginx"
    prefix.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = prefix / "nginx.conf"
    config.write_text(local_config(topology, port, str(prefix)))
    subprocess.run(
        [NGINX, "-t", "-q", "-c", str(config), "-e", str(prefix / "error.log")], check=True
    )
    process = subprocess.Popen([NGINX, "-c", str(config), "-e", str(prefix / "error.log")])
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"nginx did not answer on {url}")
        yield url
    finally:
        process.terminate()
        process.wait(10)


def test_rest_is_balanced_and_socketio_sticks_through_nginx(
    proxy: str, topology: LocalTopology
) -> None:
    plan = LoadPlan(conversations=6, turns=4, socketio=2, time_limit=60)
    conversations, seconds = asyncio.run(run_load([proxy], plan, topology.origin))
    report = LoadReport("through nginx", conversations, seconds)
    report.problems = audit(topology.tracker_db_url, conversations)
    print(report.format())
    assert report.ok, report.format()
    rest = [t for c in conversations if c.channel == "rest" for t in c.turns]
    backends = {urlsplit(url).netloc for url in topology.rasa_urls}
    assert {t.upstream for t in rest} == backends, "REST turns reached both instances"
    # Socket.io over polling: without stickiness the second instance refuses the session.
    assert all(not t.error for c in conversations if c.channel == "socketio" for t in c.turns)


def test_chat_page_and_health_are_served(proxy: str) -> None:
    with urllib.request.urlopen(f"{proxy}/", timeout=5) as response:
        assert response.status == 200 and b"<html" in response.read().lower()
    with urllib.request.urlopen(f"{proxy}/health", timeout=5) as response:
        assert response.read().startswith(b"Hello from Rasa")
