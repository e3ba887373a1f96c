"""Deployment files that keep secrets and internals out of images and public responses.

Read statically (no Docker engine here): what git and the image build context leave out, the
nginx headers on public pages, and the secrets docker-compose refuses. The nginx configuration
runs for real in tests/scale/test_nginx.py.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from functools import cache

import pytest

from opastin.config import ROOT

DOCKERFILES = sorted((ROOT / "deploy").glob("Dockerfile.*"))


# --- .gitignore and .dockerignore -------------------------------------------------------------


def docker_pattern(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as Docker reads it: `*` and `?` within a path part, `**` across."""
    parts = re.split(r"(\*\*/?|\*|\?)", pattern.strip("/"))
    wildcards = {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}
    return re.compile("".join(wildcards.get(p, re.escape(p)) for p in parts))


@cache
def dockerignore() -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keep = line.startswith("!")
            rules.append((keep, docker_pattern(line.lstrip("!"))))
    return rules


def left_out_of_build_context(path: str) -> bool:
    """True if Docker leaves the path out: it, or a folder above it, matches; the last rule wins."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for keep, rule in dockerignore():
        if any(rule.fullmatch(candidate) for candidate in candidates):
            excluded = not keep
    return excluded


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        ".env.production",
        ".git/HEAD",
        ".venvs/rasa/bin/python",
        "var/logs/actions.log",
        "var/tracker.db",
        "node_modules/rasa-webchat/package.json",
        "test-artifacts/scale/rasa-1.log",
        ".pytest_cache/v/cache/lastfailed",
        "actions/__pycache__/answers.cpython-311.pyc",
        "bot/models/opastin.tar.gz",
        "bot/.rasa/cache/x",
    ],
)
def test_build_context_leaves_out_secrets_state_and_test_output(path: str) -> None:
    assert left_out_of_build_context(path)


def copied_sources() -> set[str]:
    """What the Dockerfiles COPY from the build context (not from other build stages)."""
    sources = set()
    for dockerfile in DOCKERFILES:
        for line in dockerfile.read_text().splitlines():
            words = line.split()
            if words[:1] == ["COPY"] and not any(w.startswith("--from") for w in words):
                sources.update(w.rstrip("/") for w in words[1:-1] if not w.startswith("--"))
    return sources


def test_build_context_keeps_every_tracked_file_the_images_copy() -> None:
    sources = copied_sources()
    assert {"bot", "actions", "pyproject.toml", "requirements/actions.lock"} <= sources
    tracked = subprocess.run(
        ["git", "ls-files", "--", *sorted(sources)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout.split()
    assert len(tracked) > len(sources)
    dropped = [path for path in tracked if left_out_of_build_context(path)]
    assert dropped == [], f".dockerignore drops files an image needs: {dropped}"


@pytest.mark.parametrize(
    ("path", "ignored"), [(".env", True), (".env.local", True), (".env.example", False)]
)
def test_git_ignores_the_real_env_file_but_not_the_example(path: str, ignored: bool) -> None:
    result = subprocess.run(
        ["git", "check-ignore", "--no-index", "--quiet", path], cwd=ROOT, check=False
    )
    assert result.returncode == (0 if ignored else 1), path


# --- nginx: headers on public pages -----------------------------------------------------------

NGINX_CONF = ROOT / "deploy" / "nginx.conf"


def nginx_directives() -> list[tuple[tuple[str, ...], list[str]]]:
    """Each directive of nginx.conf with its blocks: (("server", "location /"), words)."""
    code = "\n".join(line.split("#", 1)[0] for line in NGINX_CONF.read_text().splitlines())
    directives = []
    blocks: list[str] = []
    for token in re.findall(r"""(?:"[^"]*"|'[^']*'|[^;{}"'])*[;{}]""", code):
        text = token[:-1].strip()
        if token.endswith("{"):
            blocks.append(text)
        elif token.endswith("}"):
            blocks.pop()
        elif text:
            directives.append((tuple(blocks), shlex.split(text)))
    return directives


def server_headers() -> dict[str, str]:
    """The headers the server block adds on every response (`always`: error pages too)."""
    headers = {}
    for blocks, words in nginx_directives():
        if words[0] == "add_header":
            # An add_header in a location drops every header the server block adds there.
            assert blocks == ("server",), f"{words[1]} in {blocks}"
            assert words[3:] == ["always"], words
            headers[words[1].lower()] = words[2]
    return headers


def csp() -> dict[str, list[str]]:
    policy = server_headers()["content-security-policy"]
    directives = (part.split() for part in policy.split(";") if part.strip())
    return {name: sources for name, *sources in directives}


def test_public_pages_get_security_headers_and_no_internal_addresses() -> None:
    headers = server_headers()
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] in {"no-referrer", "strict-origin-when-cross-origin"}
    assert headers["x-frame-options"] == "DENY"  # browsers without CSP's frame-ancestors
    assert csp()["frame-ancestors"] == ["'none'"]
    assert "x-rasa-upstream" not in headers
    assert not any("$upstream" in value for value in headers.values())
    assert (("server",), ["server_tokens", "off"]) in nginx_directives()


def test_content_security_policy_allows_what_the_chat_page_loads_and_no_more() -> None:
    policy = csp()
    page = (ROOT / "web" / "index.html").read_text()
    scripts = re.findall(r"<script\b([^>]*)>", page)
    assert scripts and all(re.search(r'\bsrc="/', s) for s in scripts), "same-origin files only"
    assert not re.search(r"\son\w+=", page), "no inline event handlers"
    assert policy["script-src"] == ["'self'"]
    assert re.search(r'<link rel="stylesheet" href="/', page)
    # The widget bundle (rasa-webchat) injects <style> elements while it runs.
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert 'href="data:' in page and "data:" in policy["img-src"]
    # socket.io, and the widget's texts (opastin-texts.json), from the page's own origin.
    assert policy["connect-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    everything = [source for sources in policy.values() for source in sources]
    assert "*" not in everything and "'unsafe-eval'" not in everything
