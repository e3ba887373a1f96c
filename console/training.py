"""Train, compare, publish and roll back models from the console (admins only).

"Train candidate" runs in the background, one job at a time, in stages the page shows with a
percentage and the job's streamed output:

1. export annotations: bot/data is copied aside and the inbox's current annotations are
   written into the copy as NLU examples (as `export-annotations` would write them), so a
   training never edits the working tree;
2. train model: `rasa train` in bot/ (Rasa's training cache there, and the sentence-vector
   cache OPASTIN_FEATURE_CACHE, make an unchanged or slightly changed data set quick);
3. build index: the corpus's search index into the candidate's folder, from the running
   index's vectors;
4. evaluate candidate, 5. evaluate running model (once per model): tools/eval/candidate.py,
   which does 3-5 in one subprocess of the actions venv.

Publishing checks the candidate's evaluation against the floors, then swaps the model through
Rasa's PUT /model and the index by replacing the running index's files (the action server
reloads on a new manifest), so conversations go on being answered. A rollback publishes an
earlier model again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from console.annotation_export import EVALUATION_DIR, build_annotated_export
from console.annotations import Annotations
from console.model_history import ModelEntry, ModelHistory
from console.project import Project
from console.rasa_client import RasaClient, RasaError
from console.settings import ConsoleSettings
from embeddings.index import install_index
from opastin.config import ROOT, Settings
from opastin.stack import ACTIONS_PYTHON, RASA_BIN, process_env, rasa_train_env

STAGES = (
    ("export annotations", 2),
    ("train model", 58),
    ("build index", 10),
    ("evaluate candidate", 15),
    ("evaluate running model", 15),
)
MAX_LINES = 300
STAGE_MARK = "@stage "  # tools/eval/candidate.py's progress lines
# Rasa's log line for each component of the graph, trained or taken from its cache.
COMPONENT_DONE = re.compile(r"(Finished training|Restored) component '")


class TrainingError(Exception):
    """A stage failed; the message says which and why (the output is in the job's lines)."""


class PublishRefused(Exception):
    """Publishing is not possible now; `status` is the HTTP status the page gets."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Job:
    """What the page shows of the current or latest training."""

    state: str = "idle"  # idle | running | done | failed
    stage: str = ""
    percent: int = 0
    started_by: str = ""
    started_at: float | None = None
    finished_at: float | None = None
    error: str = ""
    candidate: str = ""
    trained_components: int = 0
    lines: deque[str] = field(default_factory=lambda: deque(maxlen=MAX_LINES))

    def as_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "stage": self.stage,
            "stages": [name for name, _ in STAGES],
            "percent": self.percent,
            "started_by": self.started_by,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "error": self.error,
            "candidate": self.candidate,
            "lines": list(self.lines),
        }

    def enter(self, stage: str) -> None:
        names = [name for name, _ in STAGES]
        self.stage = stage
        self.percent = sum(weight for name, weight in STAGES[: names.index(stage)])
        self.lines.append(f"== {stage}")


class Trainer:
    """The console's one training job, and publishing (which the job never does by itself)."""

    def __init__(
        self,
        config: ConsoleSettings,
        project_settings: Settings,
        history: ModelHistory,
        annotations: Annotations,
        project: Project,
        rasa: RasaClient,
    ) -> None:
        self.config = config
        self.project_settings = project_settings
        self.history = history
        self.annotations = annotations
        self.project = project
        self.rasa = rasa
        self.job = Job()
        self._task: asyncio.Task[None] | None = None
        self._publishing = asyncio.Lock()

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self, user: str) -> bool:
        """Start a training in the background; False when one is already running."""
        if self.busy:
            return False
        self.job = Job(state="running", started_by=user, started_at=time.time())
        self._task = asyncio.create_task(self._run(user))
        return True

    async def stop(self) -> None:
        """Cancel a running job (the console shuts down); its subprocess is killed."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self, user: str) -> None:
        job = self.job
        model_id = time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + f"-{os.getpid() % 1000:03d}"
        folder = self.history.folder / model_id
        try:
            job.enter("export annotations")
            data_dir = await asyncio.to_thread(self._stage_data, folder / "bot-data")
            job.enter("train model")
            model_file = await self._train(data_dir, folder)
            shutil.rmtree(data_dir, ignore_errors=True)
            try:
                running = await self.running_entry()
            except RasaError as error:
                running = None
                job.lines.append(f"the running model is not known: {error}")
            if running is None:
                job.lines.append("the running model's file was not found: nothing to compare")
            evaluate_running = running if running and running.evaluation is None else None
            result = await self._evaluate(model_file, folder, evaluate_running)
            candidate = ModelEntry(
                model_id, model_file, folder / "index", result["candidate"], user, time.time(),
                None, None,
            )  # fmt: skip
            self.history.add(candidate)
            if evaluate_running is not None:
                self.history.set_evaluation(evaluate_running.id, result["running"])
            job.candidate = model_id
            job.state, job.percent = "done", 100
        except asyncio.CancelledError:
            job.state, job.error = "failed", "stopped (the console shut down)"
            shutil.rmtree(folder, ignore_errors=True)
            raise
        except (TrainingError, RasaError, OSError, ValueError) as error:
            job.state, job.error = "failed", f"{job.stage}: {error}"
            job.lines.append(f"error: {error}")
            shutil.rmtree(folder, ignore_errors=True)
        finally:
            job.finished_at = time.time()

    def _stage_data(self, target: Path) -> Path:
        """bot/data copied to `target`, with the current annotations as NLU examples in it."""
        source = self.project.bot_dir / "data"
        annotated = self.config.annotated_nlu_dir.resolve()
        shutil.copytree(source, target)
        inside = annotated.is_relative_to(source.resolve())
        staged = target / annotated.relative_to(source.resolve()) if inside else None
        if staged is not None:
            shutil.rmtree(staged, ignore_errors=True)  # replaced by the fresh export
        export = build_annotated_export(
            self.annotations.all_current(),
            self.project,
            self.config.annotated_nlu_dir,
            self.config.annotated_questions,
            sorted(EVALUATION_DIR.glob("*.yaml")),
        )
        nlu_target = staged or target / "nlu" / "annotated"
        for path, text in export.files.items():
            if text is not None and path.parent == self.config.annotated_nlu_dir:
                nlu_target.mkdir(parents=True, exist_ok=True)
                (nlu_target / path.name).write_text(text, encoding="utf-8")
        self.job.lines.append(f"{export.examples} annotated NLU examples added")
        self.job.lines.extend(export.notes[:20])
        return target

    async def _train(self, data_dir: Path, folder: Path) -> Path:
        """`rasa train` of the staged data with bot/'s config and domain: the model's path."""
        bot = self.project.bot_dir
        command = [
            str(RASA_BIN), "train", "--fixed-model-name", folder.name, "--out", str(folder),
            "--config", str(bot / "config.yml"), "--domain", str(bot / "domain.yml"),
            "--data", str(data_dir),
        ]  # fmt: skip
        env = rasa_train_env(self.project_settings, bot)
        await self._stream(command, bot, env)  # in bot/: Rasa's training cache is bot/.rasa
        model_file = folder / f"{folder.name}.tar.gz"
        if not model_file.exists():
            raise TrainingError("rasa train wrote no model")
        return model_file

    async def _evaluate(
        self, model_file: Path, folder: Path, running: ModelEntry | None
    ) -> dict[str, Any]:
        """Build the candidate's index and evaluate it (and the running model, when it has
        no evaluation yet) in one subprocess: {"candidate": ..., "running": ... or None}."""
        sets = self.config.evaluation_sets()
        out = folder / "evaluation.json"
        command = [
            str(ACTIONS_PYTHON), "-m", "tools.eval.candidate",
            "--live-index", str(self.project_settings.index_dir), "--index", str(folder / "index"),
            "--model", str(model_file),
            "--dev", *map(str, sets["dev"]), "--holdout", *map(str, sets["holdout"]),
            "--nlu", *map(str, sets["nlu"]), "--out", str(out),
        ]  # fmt: skip
        if running is not None:
            command += ["--running-model", str(running.model_file)]
            command += ["--running-index", str(running.index_dir)]
        await self._stream(command, ROOT, process_env(self.project_settings))
        result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        return result

    async def _stream(self, command: list[str], cwd: Path, env: dict[str, str]) -> None:
        """Run a command; every output line (progress bars' redraws too) goes to the job, and
        an `@stage NAME` line moves the job to that stage."""
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=cwd,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        assert process.stdout is not None
        pending = ""
        try:
            while chunk := await process.stdout.read(4096):
                pending += chunk.decode("utf-8", errors="replace")
                *done, pending = pending.replace("\r", "\n").split("\n")
                for line in done:
                    self._line(line)
            code = await process.wait()
        except asyncio.CancelledError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            raise
        self._line(pending)
        if code != 0:
            raise TrainingError(f"{Path(command[0]).name} {command[1]} … exited with {code}")

    def _line(self, line: str) -> None:
        """One output line: a stage change, a trained component (the percentage moves on
        within the training's share), or a line to show."""
        stage = line.removeprefix(STAGE_MARK).strip()
        if line.startswith(STAGE_MARK) and stage in dict(STAGES):
            self.job.enter(stage)
            return
        if self.job.stage == "train model" and COMPONENT_DONE.search(line):
            self.job.trained_components += 1
            share = dict(STAGES)["train model"]
            done = min(self.job.trained_components / self.components(), 1.0)
            self.job.percent = dict(STAGES)["export annotations"] + int(share * done)
        if line.strip():
            self.job.lines.append(line)

    def components(self) -> int:
        """How many components `rasa train` reports trained or restored: bot/config.yml's
        pipeline and policies (at least one, for a config that cannot be read)."""
        try:
            config = yaml.safe_load((self.project.bot_dir / "config.yml").read_text()) or {}
        except (OSError, yaml.YAMLError):
            return 1
        return max(len(config.get("pipeline") or []) + len(config.get("policies") or []), 1)

    async def running_entry(self) -> ModelEntry | None:
        """The model Rasa serves, from the history; one it does not know (the model the bot
        was started with) is recorded first, with a copy of the running index, so it can be
        rolled back to. None when Rasa's model file is not found."""
        name = await self.rasa.running_model()
        for entry in self.history.published():
            if entry.model_file.name == name and entry.model_file.exists():
                return entry
        model_file = self.project_settings.models_dir / name
        if not name or not model_file.exists():
            return None
        model_id = "running-" + time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        index_dir = self.history.folder / model_id / "index"
        await asyncio.to_thread(install_index, self.project_settings.index_dir, index_dir)
        entry = ModelEntry(
            model_id, model_file, index_dir, None, "(not trained in the console)",
            model_file.stat().st_mtime, "(running before)", time.time(),
        )  # fmt: skip
        self.history.add(entry)
        return entry

    async def publish(self, model_id: str, user: str) -> ModelEntry:
        """Serve a model: a candidate only when its evaluation is above every floor; a model
        published before (a rollback) at any time."""
        entry = self.history.get(model_id)
        if entry is None:
            raise PublishRefused(404, "no such model")
        if entry.published_at is None:
            if self.busy and self.job.candidate == model_id:
                raise PublishRefused(409, "the candidate is still being evaluated")
            if entry.evaluation is None:
                raise PublishRefused(409, "the candidate has no evaluation: train it again")
            if entry.evaluation["below"]:
                below = "; ".join(entry.evaluation["below"])
                raise PublishRefused(409, f"not published: below the floors: {below}")
        if self._publishing.locked():
            raise PublishRefused(409, "another publish is under way")
        async with self._publishing:
            try:
                await self.running_entry()  # the model it replaces stays available
                await self.rasa.load_model(str(entry.model_file))
            except RasaError as error:
                raise PublishRefused(502, str(error)) from None
            await asyncio.to_thread(install_index, entry.index_dir, self.project_settings.index_dir)
            self.history.mark_published(model_id, user)
        published = self.history.get(model_id)
        assert published is not None
        return published
