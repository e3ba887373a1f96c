"""A scratch environment made of a venv's installed distributions, chosen by pip itself.

Why: an image's Dockerfile pip line must be checked without a Docker engine, and downloading
what it installs costs GBs per run (this machine's package index sends nothing pip may cache).
The project's venvs hold every distribution the locks pin, already installed. So:

1. `metadata_index` writes a local package index of metadata-only wheels, one per installed
   distribution (its METADATA and WHEEL: the original name, version and platform tags);
2. `resolve` runs the Dockerfile's own pip arguments, its index options replaced by that
   index, with `--dry-run --report` against the scratch venv: pip's resolver picks what the
   image gets;
3. `link_distributions` links each picked distribution's files (its RECORD, or an egg-info's
   installed-files.txt) into the scratch venv's site-packages, file by file.

A package the Dockerfile's line does not bring in is absent from the scratch venv, as from the
image; a version the venv does not have fails the resolution. What this does not check: the
download of the wheels themselves (the venvs were installed from the same locks).
"""

from __future__ import annotations

import csv
import email.parser
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path


def canonical(name: str) -> str:
    """PEP 503 name: what pip compares."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Installed:
    """One installed distribution: where its metadata lives and which files are its own."""

    name: str
    version: str
    metadata: str  # METADATA text (PKG-INFO plus requires.txt for an egg-info)
    tags: tuple[str, ...]  # the WHEEL file's tags; py3-none-any for an egg-info
    files: tuple[str, ...]  # paths relative to site-packages, inside it


def site_packages(python: Path) -> Path:
    """The interpreter's purelib directory (the venvs' site-packages)."""
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


def _inside(site: Path, base: Path, paths: list[str]) -> tuple[str, ...]:
    """Paths (relative to `base`) that lie inside site-packages, relative to it; console
    scripts and data files outside it are left out (nothing imports them)."""
    kept = []
    for path in paths:
        full = os.path.normpath(base / path)
        relative = os.path.relpath(full, site)
        if path and not os.path.isabs(path) and not relative.startswith(".."):
            kept.append(relative)
    return tuple(kept)


def _egg_requirements(requires_txt: str) -> list[str]:
    """requires.txt (`[extra]` or `[extra:marker]` or `[:marker]` sections) as Requires-Dist."""
    lines, extra, marker = [], "", ""
    for raw in requires_txt.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("["):
            extra, _, marker = line.strip("[]").partition(":")
            continue
        conditions = [f"({marker})"] if marker else []
        conditions += [f'extra == "{extra}"'] if extra else []
        marks = f"; {' and '.join(conditions)}" if conditions else ""
        lines.append(f"Requires-Dist: {line}{marks}")
    return lines


def _from_dist_info(site: Path, directory: Path) -> Installed:
    metadata = (directory / "METADATA").read_text(encoding="utf-8")
    headers = email.parser.Parser().parsestr(metadata, headersonly=True)
    wheel = email.parser.Parser().parsestr((directory / "WHEEL").read_text(), headersonly=True)
    rows = csv.reader(io.StringIO((directory / "RECORD").read_text(encoding="utf-8")))
    files = _inside(site, site, [row[0] for row in rows if row])
    tags = tuple(wheel.get_all("Tag") or ["py3-none-any"])
    return Installed(headers["Name"], headers["Version"], metadata, tags, files)


def _from_egg_info(site: Path, directory: Path) -> Installed:
    info = (directory / "PKG-INFO").read_text(encoding="utf-8")
    headers = email.parser.Parser().parsestr(info, headersonly=True)
    requires = directory / "requires.txt"
    extra = _egg_requirements(requires.read_text()) if requires.exists() else []
    metadata = "\n".join(["Metadata-Version: 2.1", f"Name: {headers['Name']}",
                          f"Version: {headers['Version']}", *extra]) + "\n"  # fmt: skip
    listed = (directory / "installed-files.txt").read_text().splitlines()
    files = _inside(site, directory, listed)
    return Installed(headers["Name"], headers["Version"], metadata, ("py3-none-any",), files)


def installed_distributions(site: Path) -> dict[str, Installed]:
    """Every distribution installed in site-packages, by canonical name."""
    found = {}
    for directory in sorted(site.iterdir()):
        if directory.suffix == ".dist-info" and (directory / "RECORD").exists():
            dist = _from_dist_info(site, directory)
        elif directory.suffix == ".egg-info" and (directory / "installed-files.txt").exists():
            dist = _from_egg_info(site, directory)
        else:
            continue
        found[canonical(dist.name)] = dist
    return found


def _compressed_tag(tags: tuple[str, ...]) -> str:
    """`cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64` from the WHEEL file's tags."""
    parts = [list(dict.fromkeys(t.split("-")[i] for t in tags)) for i in range(3)]
    return "-".join(".".join(values) for values in parts)


def metadata_index(dists: dict[str, Installed], where: Path) -> str:
    """A local package index (PEP 503 layout, file:// URL) with one wheel per distribution
    holding only its metadata: enough for pip to resolve. An index rather than --find-links:
    pip then reads one project's page per requirement instead of weighing every file for
    every requirement (28,000 link evaluations for the Rasa venv)."""
    files = where / "files"
    files.mkdir(parents=True, exist_ok=True)
    for key, dist in dists.items():
        escaped = re.sub(r"[-_.]+", "_", dist.name)
        info = f"{escaped}-{dist.version}.dist-info"
        name = f"{escaped}-{dist.version}-{_compressed_tag(dist.tags)}.whl"
        wheel = "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n"
        wheel += "".join(f"Tag: {tag}\n" for tag in dist.tags)
        record = "".join(f"{info}/{part},,\n" for part in ("METADATA", "WHEEL", "RECORD"))
        with zipfile.ZipFile(files / name, "w") as archive:
            archive.writestr(f"{info}/METADATA", dist.metadata)
            archive.writestr(f"{info}/WHEEL", wheel)
            archive.writestr(f"{info}/RECORD", record)
        page = where / "simple" / key
        page.mkdir(parents=True, exist_ok=True)
        link = (files / name).resolve().as_uri()
        (page / "index.html").write_text(f'<html><body><a href="{link}">{name}</a></body></html>\n')
    return (where / "simple").resolve().as_uri() + "/"


# Index options in a Dockerfile's pip line: replaced by the local index.
INDEX_OPTIONS = ("--index-url", "-i", "--extra-index-url", "--find-links", "-f")
# pip with no configuration (this machine's pip.conf adds local indexes and constraints).
PIP_ENV = {"PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1",
           "PIP_NO_INPUT": "1"}  # fmt: skip


def without_index_options(arguments: list[str]) -> list[str]:
    """The pip arguments minus where to download from (`--opt value` and `--opt=value`)."""
    kept: list[str] = []
    skip = False
    for word in arguments:
        if skip:
            skip = False
        elif word in INDEX_OPTIONS:
            skip = True
        elif not word.startswith(tuple(f"{option}=" for option in INDEX_OPTIONS)):
            kept.append(word)
    return kept


def resolve(python: Path, arguments: list[str], index_url: str, report: Path) -> list[str]:
    """What `pip install <arguments>` would install into `python`'s environment, from the
    local index only (pip runs from this interpreter, for `python` through --python);
    canonical names. Raises CalledProcessError with pip's output."""
    command = [sys.executable, "-m", "pip", "--python", str(python), "install", "--dry-run",
               "--quiet", "--index-url", index_url, "--report", str(report),
               *without_index_options(arguments)]  # fmt: skip
    env = {**os.environ, **PIP_ENV}
    subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    chosen = json.loads(report.read_text())["install"]
    return [canonical(item["metadata"]["name"]) for item in chosen]


def link_distributions(
    names: list[str], dists: dict[str, Installed], source: Path, target: Path
) -> int:
    """Link the named distributions' files from `source` into `target` site-packages: a
    top-level directory or module that belongs to one distribution only is one link (tensorflow/
    and its 20,000 files), a shared one (a namespace package such as google/) is linked file by
    file. Compiled bytecode comes along: same sources, same timestamps, so imports stay fast.
    Returns the number of links made."""
    owners: dict[str, set[str]] = {}
    for key, dist in dists.items():
        for relative in dist.files:
            owners.setdefault(relative.split(os.sep)[0], set()).add(key)
    made: set[Path] = set()
    count = 0
    for name in names:
        for relative in dists[name].files:
            top = relative.split(os.sep)[0]
            linked = top if owners[top] == {name} else relative
            origin, link = source / linked, target / linked
            if not origin.exists() or os.path.lexists(link):
                continue
            if link.parent not in made:
                link.parent.mkdir(parents=True, exist_ok=True)
                made.add(link.parent)
            os.symlink(origin, link)
            count += 1
    return count
