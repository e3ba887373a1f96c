"""Create or update the project's virtual environments from pyproject.toml.

Each venv listed under [tool.opastin.venvs] gets the dependency groups it names, installed
with requirements/<venv>.lock as pip constraints, so a fresh machine resolves to exactly the
versions we tested and pip never backtracks. A stamp file makes a second run a no-op.
The venvs are installed at the same time: a first install is mostly waiting on downloads
(about 3 and 5 minutes one after the other on a fresh machine).

Run with Python 3.11+ (tomllib): python3.11 scripts/bootstrap.py [venv ...]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent
VENVS = ROOT / ".venvs"
STAMP = ".opastin-stamp"


def find_python(version: str) -> str:
    """Locate an interpreter of the given X.Y version (PATH, then pyenv)."""
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "find_python.sh"), version],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        raise SystemExit(1)
    return result.stdout.strip()


def wanted_state(name: str, spec: dict, project: dict) -> dict:
    groups = project["optional-dependencies"]
    requirements = [req for group in spec["groups"] for req in groups[group]]
    lock = ROOT / "requirements" / f"{name}.lock"
    return {
        "python": spec["python"],
        "requirements": requirements,
        "lock_sha256": hashlib.sha256(lock.read_bytes()).hexdigest(),
        "editable": str(ROOT) if spec.get("editable") else None,
    }


def pip_install(command: list[str], lock: Path, label: str, interactive: bool) -> None:
    """Run `pip install` showing how far it is: packages resolved out of those in the lock.

    A first install takes minutes (Rasa alone pulls ~250 packages); a silent terminal looks
    hung. pip's own output is kept back and shown only when it fails.
    """
    total = sum(1 for line in lock.read_text().splitlines() if line and line[0] != "#")
    seen: list[str] = []
    done = 0
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            seen.append(line)
            if line.startswith(("Collecting ", "Requirement already satisfied: ")):
                done += 1
                if interactive:
                    print(f"\r[bootstrap] {label}: {done}/~{total} packages", end="", flush=True)
                elif done % 25 == 0:
                    print(f"[bootstrap] {label}: {done}/~{total} packages", flush=True)
            elif line.startswith("Installing collected packages"):
                print(f"{chr(10) if interactive else ''}[bootstrap] {label}: installing "
                      f"{line.count(',') + 1} packages", flush=True)  # fmt: skip
    if interactive:
        print(flush=True)
    if process.returncode != 0:
        sys.stderr.write("".join(seen[-40:]))
        raise SystemExit(f"error: pip install failed for {label} (exit {process.returncode})")


def ensure_venv(name: str, spec: dict, project: dict, interactive: bool) -> None:
    venv = VENVS / name
    state = wanted_state(name, spec, project)
    stamp = venv / STAMP
    if stamp.exists() and json.loads(stamp.read_text()) == state:
        return
    started = time.monotonic()
    python = find_python(spec["python"])
    if not (venv / "bin" / "python").exists():
        print(f"[bootstrap] creating {venv.relative_to(ROOT)} with {python}", flush=True)
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    print(f"[bootstrap] installing {', '.join(spec['groups'])} into .venvs/{name}", flush=True)
    lock = ROOT / "requirements" / f"{name}.lock"
    # --no-compile: no .pyc for the ~300 packages up front (TensorFlow alone has thousands of
    # modules); Python compiles what it imports, on first use.
    command = [*pip, "install", "--no-compile", "-c", str(lock), *state["requirements"]]
    pip_install(command, lock, f".venvs/{name}", interactive)
    if state["editable"]:
        # The project itself, so `.venvs/<name>/bin/opastin run` works; its dependencies are
        # the groups above, and the venv's setuptools builds it (offline, no isolation).
        print(f"[bootstrap] installing the project (editable) into .venvs/{name}", flush=True)
        editable = ["install", "-q", "--no-deps", "--no-build-isolation", "-e", str(ROOT)]
        subprocess.run([*pip, *editable], check=True)
    stamp.write_text(json.dumps(state, indent=2))
    print(f"[bootstrap] .venvs/{name} ready in {time.monotonic() - started:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("venvs", nargs="*", help="which venvs (default: all)")
    args = parser.parse_args()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    specs = pyproject["tool"]["opastin"]["venvs"]
    names = args.venvs or list(specs)
    unknown = [name for name in names if name not in specs]
    if unknown:
        raise SystemExit(f"error: unknown venv {unknown[0]!r}; known: {', '.join(specs)}")
    # One progress line rewritten in place only when a single venv is being installed.
    interactive = sys.stdout.isatty() and len(names) == 1
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        jobs = [
            pool.submit(ensure_venv, name, specs[name], pyproject["project"], interactive)
            for name in names
        ]
        for job in jobs:
            job.result()  # re-raises the first failure (SystemExit with pip's output)


if __name__ == "__main__":
    main()
