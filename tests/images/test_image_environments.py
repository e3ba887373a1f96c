"""Each image's Python environment, built the way its Dockerfile builds it, runs the bot.

A package the image lacks fails `rasa train` or the action server's start only inside the
image, and no Docker engine runs here. So these tests read the final stage's `RUN pip install`
from deploy/Dockerfile.rasa and deploy/Dockerfile.actions (tests/dockerfiles.py: the same
arguments, the lock it COPYs, the dependency group it writes from pyproject.toml), let pip
resolve exactly that in a scratch venv of the image's Python, and then:

- Rasa image: `rasa train` with the real bot/config.yml pipeline and policies and the real
  domain and rules, on a small NLU set (two English examples per intent, read from
  bot/data/nlu/en.yml): every component and policy is imported and trained.
- Action image: `python -m knowledge validate` as the image build runs it, then the action
  server starts from the scratch venv and the Dockerfile's COPYs only (no tools/, no tests/),
  with the project's index, and answers /health.

Where the packages come from (tests/images/installed_wheels.py): pip resolves against a local
index of metadata-only wheels made from the project's venvs, which were installed from the same
locks, and the distributions it picks are linked in from those venvs. Downloading them instead
costs ~1.7 GB (actions) and ~2.7 GB (Rasa) per run here, where the package index sends nothing
pip may cache. The Dockerfile's index options (the PyTorch CPU index) are replaced by the local
index. The Rasa image's base, rasa/rasa:3.6.21-full, is emulated as `pip install rasa==3.6.21`
(the version from the FROM line) constrained by requirements/rasa.lock, before the
Dockerfile's own pip line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from opastin.config import ROOT, Settings
from opastin.stack import BOT_DIR, QUIET_ENV, ensure_index
from tests.dockerfiles import PipInstall, pip_install
from tests.images.installed_wheels import (
    installed_distributions,
    link_distributions,
    metadata_index,
    resolve,
    site_packages,
)
from tools.servers import free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

DEPLOY = ROOT / "deploy"
VENVS = ROOT / ".venvs"


def find_python(version: str) -> str:
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "find_python.sh"), version],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def run(command: list[str], log: Path, **options) -> None:
    """Run a step, its output in a log file; fail with the log's tail."""
    with log.open("a") as out:
        out.write(f"$ {' '.join(command)}\n")
        out.flush()
        result = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, **options)
    if result.returncode != 0:
        tail = "\n".join(log.read_text().splitlines()[-40:])
        pytest.fail(f"{command[:4]} failed ({result.returncode}):\n{tail}")


class ScratchEnvironment:
    """A venv of the image's Python whose packages are what pip resolves for the image, linked
    from the project's venv of that Python (`source_venv`)."""

    def __init__(self, python_version: str, source_venv: Path, where: Path) -> None:
        self.where = where
        venv = where / "venv"
        subprocess.run([find_python(python_version), "-m", "venv", "--without-pip", str(venv)],
                       check=True)  # fmt: skip
        self.python = venv / "bin" / "python"
        self.site = site_packages(self.python)
        self.source = site_packages(source_venv / "bin" / "python")
        self.dists = installed_distributions(self.source)
        self.index = metadata_index(self.dists, where / "index")
        self.steps = 0

    def pip_install(self, arguments: list[str]) -> list[str]:
        """`pip install <arguments>` as resolved from the local index, then linked in."""
        self.steps += 1
        report = self.where / f"report-{self.steps}.json"
        try:
            names = resolve(self.python, arguments, self.index, report)
        except subprocess.CalledProcessError as error:
            pytest.fail(f"pip install {' '.join(arguments)}: {error.stdout}{error.stderr}")
        link_distributions(names, self.dists, self.source, self.site)
        return names

    def install_like_the_image(self, install: PipInstall) -> list[str]:
        """The Dockerfile's pip line: the group written to a file, as its RUN python step does."""
        import tomllib  # Python 3.11 (the tests' venv); ruff's target is 3.10

        groups = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
        group_file = self.where / "requirements.txt"
        group_file.write_text("\n".join(groups["optional-dependencies"][install.group]) + "\n")
        return self.pip_install(install.with_group_file(group_file))


def small_nlu(target: Path) -> None:
    """Two English examples per intent of the real data, and the lookup tables the
    RegexEntityExtractor reads."""
    english = yaml.safe_load((BOT_DIR / "data" / "nlu" / "en.yml").read_text())
    nlu = []
    for item in english["nlu"]:
        if "intent" in item:
            examples = [e for e in item["examples"].splitlines() if e.strip()][:2]
            nlu.append({"intent": item["intent"], "examples": "\n".join(examples) + "\n"})
    (target / "nlu").mkdir(parents=True)
    (target / "nlu" / "en.yml").write_text(yaml.safe_dump({"version": "3.1", "nlu": nlu}))
    shutil.copy(BOT_DIR / "data" / "nlu" / "lookups.yml", target / "nlu" / "lookups.yml")
    shutil.copy(BOT_DIR / "data" / "rules.yml", target / "rules.yml")


def test_the_rasa_images_environment_trains_the_real_pipeline(tmp_path: Path) -> None:
    install = pip_install(DEPLOY / "Dockerfile.rasa", ROOT)
    image, _, tag = install.base_image.partition(":")
    assert image == "rasa/rasa" and tag.endswith("-full"), install.base_image
    environment = ScratchEnvironment("3.10", VENVS / "rasa", tmp_path)
    lock = next(a for a in install.arguments if a.endswith("rasa.lock"))
    # The base image: Rasa itself (emulated; the image has it installed already).
    assert "rasa" in environment.pip_install(["-c", lock, f"rasa=={tag.removesuffix('-full')}"])
    environment.install_like_the_image(install)
    # COPY bot /app, as the image does; a small data set instead of the real one.
    app = tmp_path / install.workdir.strip("/")
    assert install.copies[install.workdir] == "bot", install.copies
    shutil.copytree(BOT_DIR, app, ignore=shutil.ignore_patterns(".rasa", "models", "data"))
    small_nlu(app / "data")
    env = {**os.environ, **QUIET_ENV, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(app)}
    train = [str(environment.python), "-m", "rasa", "train", "--config", "config.yml",
             "--domain", "domain.yml", "--data", "data", "--out", "models",
             "--fixed-model-name", "opastin"]  # fmt: skip
    run(train, tmp_path / "train.log", cwd=app, env=env, timeout=500)
    assert (app / "models" / "opastin.tar.gz").stat().st_size > 0


def copy_application(install: PipInstall, app: Path) -> None:
    """The Dockerfile's COPYs into its working directory, as links (nothing else of the
    repository is importable, as in the image)."""
    for container, source in install.copies.items():
        relative = os.path.relpath(container, install.workdir)
        if not relative.startswith(".."):
            (app / relative).parent.mkdir(parents=True, exist_ok=True)
            (app / relative).symlink_to(ROOT / source)


def test_the_action_images_environment_serves_health(tmp_path: Path) -> None:
    install = pip_install(DEPLOY / "Dockerfile.actions", ROOT)
    environment = ScratchEnvironment("3.11", VENVS / "actions", tmp_path)
    installed = environment.install_like_the_image(install)
    assert "rasa-sdk" in installed and "pytest" not in installed, installed
    app = tmp_path / "app"
    copy_application(install, app)
    assert not (app / "tools").exists() and (app / "actions").is_dir()
    settings = Settings()
    ensure_index(settings)  # the image builds it at build time; the same code, already tested
    env = {**QUIET_ENV, "PATH": os.environ["PATH"], "HOME": str(tmp_path), "PYTHONPATH": str(app),
           "OMP_NUM_THREADS": "1", "OPASTIN_VAR_DIR": str(settings.var_dir),
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}  # fmt: skip
    python = str(environment.python)
    run([python, "-m", "knowledge", "validate"], tmp_path / "validate.log", cwd=app, env=env)
    port = free_port()
    with (tmp_path / "actions.log").open("w") as out:
        server = subprocess.Popen(
            [python, "-m", "actions.server", "--port", str(port)],
            cwd=app, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while True:
            assert server.poll() is None, (tmp_path / "actions.log").read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "no /health within 300 s"
                time.sleep(1)
    finally:
        server.terminate()
        server.wait(30)
