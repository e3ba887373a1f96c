"""What the console needs to know about the Rasa project and the corpus.

Intents for the correction menu come from bot/domain.yml, organisations from the corpus, and
the actions expected after an intent from bot/data/rules.yml: when staff correct an intent, the
exported story expects what the rules say the bot should do for that intent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from opastin.config import ROOT
from opastin.nlu_text import strip_annotations
from opastin.yaml_files import read_yaml

BOT_DIR = ROOT / "bot"


def normalise(text: str) -> str:
    """Ignore case, punctuation and spacing (`Tax card?` = `tax card`)."""
    return " ".join(re.sub(r"[^\w\s<>]", " ", text.casefold()).split())


def _yaml(path: Path) -> Any:
    try:
        return read_yaml(path) or {}
    except (OSError, yaml.YAMLError):
        return {}


@dataclass
class Project:
    """The bot's domain, rules and training data, and the corpus's organisations."""

    bot_dir: Path = BOT_DIR
    corpus_dir: Path = field(default_factory=lambda: ROOT / "knowledge" / "organisations")

    @cached_property
    def domain(self) -> dict[str, Any]:
        return _yaml(self.bot_dir / "domain.yml")

    @cached_property
    def intents(self) -> list[str]:
        names = [i if isinstance(i, str) else next(iter(i)) for i in self.domain.get("intents", [])]
        return sorted(names)

    @cached_property
    def entities(self) -> set[str]:
        return {e if isinstance(e, str) else next(iter(e)) for e in self.domain.get("entities", [])}

    @cached_property
    def slots(self) -> set[str]:
        return set(self.domain.get("slots") or {})

    @cached_property
    def organisations(self) -> list[dict[str, str]]:
        """[{"id", "name"}] from the corpus files, sorted by name."""
        found = []
        for path in sorted(self.corpus_dir.glob("*.y*ml")):
            data = _yaml(path)
            if isinstance(data, dict) and data.get("id"):
                name = data.get("name")
                if isinstance(name, dict):
                    name = name.get("en") or next(iter(name.values()), data["id"])
                found.append({"id": str(data["id"]), "name": str(name or data["id"])})
        return sorted(found, key=lambda o: o["name"].casefold())

    @cached_property
    def services(self) -> list[dict[str, str]]:
        """[{"id", "organisation", "title"}] of every corpus service, for annotations."""
        found = []
        for path in sorted(self.corpus_dir.glob("*.y*ml")):
            data = _yaml(path)
            if not isinstance(data, dict) or not data.get("id"):
                continue
            for service in data.get("services") or []:
                if isinstance(service, dict) and service.get("id"):
                    title = service.get("title")
                    if isinstance(title, dict):
                        title = title.get("en") or next(iter(title.values()), service["id"])
                    found.append(
                        {
                            "id": str(service["id"]),
                            "organisation": str(data["id"]),
                            "title": str(title or service["id"]),
                        }
                    )
        return found

    def corpus_changed(self) -> None:
        """Read the organisations and services again at next use (a suggestion was accepted)."""
        for name in ("organisations", "services"):
            self.__dict__.pop(name, None)

    @cached_property
    def rule_actions(self) -> dict[str, list[str]]:
        """Intent -> actions, from rules that start with just that intent (or an `or` of them)."""
        result: dict[str, list[str]] = {}
        for path in sorted((self.bot_dir / "data").rglob("*.yml")):
            for rule in _yaml(path).get("rules", []) if path.is_file() else []:
                steps = rule.get("steps") or []
                if not steps or rule.get("condition") or rule.get("conversation_start"):
                    continue
                first, rest = steps[0], steps[1:]
                if "intent" in first:
                    intents = [first["intent"]]
                elif "or" in first:
                    intents = [s.get("intent") for s in first["or"] if "intent" in s]
                else:
                    continue
                actions = [s["action"] for s in rest if "action" in s]
                if len(actions) != len(rest) or not actions:
                    continue
                for intent in intents:
                    result.setdefault(intent, actions)
        return result

    def training_examples(self, exclude: Path | None = None) -> dict[str, str]:
        """Every NLU example in bot/data, normalised -> its intent (to avoid duplicates);
        `exclude` leaves out a folder (the one an export is about to rewrite)."""
        examples: dict[str, str] = {}
        for path in sorted((self.bot_dir / "data").rglob("*.yml")):
            if exclude is not None and path.resolve().is_relative_to(exclude.resolve()):
                continue
            for block in _yaml(path).get("nlu", []) or []:
                if not isinstance(block, dict) or "intent" not in block:
                    continue
                for line in str(block.get("examples") or "").splitlines():
                    line = line.strip()
                    if line.startswith("- "):
                        examples[normalise(strip_annotations(line[2:]))] = block["intent"]
        return examples
