"""pyproject.toml and the action image agree with what the code imports.

A runtime package that imports an undeclared library works here (the dev venv has everything)
and breaks in the image; a runtime package that imports tools/ or tests/ drags them into it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
import tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from opastin.config import ROOT
from tests.python_imports import imported_names as imports_below

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
RUNTIME = PYPROJECT["tool"]["setuptools"]["packages"]
FIRST_PARTY = {*RUNTIME, "tools", "tests", "scripts"}
DOCKERFILE = ROOT / "deploy" / "Dockerfile.actions"


def imported_names(package: str) -> dict[str, Path]:
    """Top-level names imported anywhere in a package (also inside functions): name -> file."""
    return imports_below(ROOT / package)


@cache
def group_distributions(*groups: str) -> set[str]:
    extras = PYPROJECT["project"]["optional-dependencies"]
    return {canonicalize_name(Requirement(r).name) for g in groups for r in extras[g]}


def test_runtime_packages_are_the_installed_ones_and_import_no_tools_or_tests() -> None:
    assert set(RUNTIME) == {"opastin", "actions", "embeddings", "knowledge", "console"}
    for package in RUNTIME:
        stray = {n: f for n, f in imported_names(package).items() if n in {"tools", "tests"}}
        assert stray == {}, f"{package} imports dev-only code: {stray}"


@pytest.mark.parametrize("package", ["actions", "embeddings", "knowledge", "opastin"])
def test_the_action_servers_packages_do_not_import_the_console(package: str) -> None:
    """The action server's runtime stays below the console: console/ is a separate service."""
    stray = {n: f for n, f in imported_names(package).items() if n == "console"}
    assert stray == {}, f"{package} imports the console: {stray}"


@pytest.mark.parametrize("package", RUNTIME)
def test_every_library_a_runtime_package_imports_is_in_the_actions_group(package: str) -> None:
    distributions = packages_distributions()
    declared = group_distributions("actions")
    undeclared = {}
    for name, file in imported_names(package).items():
        if name in sys.stdlib_module_names or name in FIRST_PARTY or name == "__future__":
            continue
        # psycopg2 is only the console's fallback driver (psycopg is the declared one).
        if name == "psycopg2":
            continue
        owners = {canonicalize_name(d) for d in distributions.get(name, [])}
        if not owners & declared:
            undeclared[name] = str(file.relative_to(ROOT))
    assert undeclared == {}, f"imported but not declared in the 'actions' group: {undeclared}"


def test_actions_image_installs_only_runtime_group_and_copies_only_runtime_packages() -> None:
    dockerfile = DOCKERFILE.read_text()
    installed_groups = re.findall(r'\["optional-dependencies"\]\["([\w-]+)"\]', dockerfile)
    assert installed_groups == ["actions"]
    copied = {
        line.split()[1].rstrip("/")
        for line in dockerfile.splitlines()
        if line.startswith("COPY ") and "requirements" not in line
    }
    # Data besides the packages: the NLU examples, whose words actions/language_detection.py
    # reads at start-up; none of bot/'s code.
    data = {"bot/data/nlu"}
    packages = copied - data
    assert packages <= set(RUNTIME), copied
    assert not packages & {"tools", "tests", "evaluation", "bot"}
    # What the copied packages import from the project is copied too.
    for package in packages:
        needed = set(imported_names(package)) & FIRST_PARTY
        assert needed <= copied, f"{package} imports {needed - copied}, not in the image"


def test_dev_only_libraries_stay_out_of_the_runtime_group() -> None:
    runtime = group_distributions("actions")
    for name in ("pytest", "ruff", "mypy", "pre-commit", "psutil"):
        assert canonicalize_name(name) not in runtime, name
    assert PYPROJECT["tool"]["opastin"]["venvs"]["actions"]["groups"] == [
        "actions",
        "tools",
        "dev",
    ]


def test_opastin_command_is_declared_and_lists_its_subcommands() -> None:
    assert PYPROJECT["project"]["scripts"]["opastin"] == "opastin.__main__:main"
    result = subprocess.run(
        [sys.executable, "-m", "opastin", "--help"], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    for command in ("run", "prepare", "shell", "interactive", "eval"):
        assert re.search(rf"^\s+{command}\b", result.stdout, re.M), command
    wrong = subprocess.run(
        [sys.executable, "-m", "opastin", "serve"], capture_output=True, text=True, cwd=ROOT
    )
    assert wrong.returncode == 2 and "invalid choice: 'serve'" in wrong.stderr


@pytest.mark.parametrize("venv", ["rasa", "actions"])
def test_every_pinned_requirement_is_in_its_venvs_lock_at_that_version(venv: str) -> None:
    spec = PYPROJECT["tool"]["opastin"]["venvs"][venv]
    extras = PYPROJECT["project"]["optional-dependencies"]
    lock = {}
    for line in (ROOT / "requirements" / f"{venv}.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            lock[canonicalize_name(name)] = version
    for group in spec["groups"]:
        for text in extras[group]:
            requirement = Requirement(text)
            (pin,) = requirement.specifier
            assert lock.get(canonicalize_name(requirement.name)) == pin.version, text


def test_bootstrap_installs_the_project_only_where_pyproject_says() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import bootstrap
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    venvs = PYPROJECT["tool"]["opastin"]["venvs"]
    actions = bootstrap.wanted_state("actions", venvs["actions"], PYPROJECT["project"])
    rasa = bootstrap.wanted_state("rasa", venvs["rasa"], PYPROJECT["project"])
    assert actions["editable"] == str(ROOT) and rasa["editable"] is None
    assert "tqdm==4.70.1" in actions["requirements"] and "mypy==2.4.1" in actions["requirements"]
