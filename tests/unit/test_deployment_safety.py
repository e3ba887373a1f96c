"""Deployment files that keep secrets and internals out of images and public responses.

Read statically (no Docker engine here): what git and the image build context leave out, the
nginx headers on public pages, and the secrets docker-compose refuses. The nginx configuration
runs for real in tests/scale/test_nginx.py.
"""

from __future__ import annotations

import re
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
