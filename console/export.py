"""Export a reviewed conversation: a Rasa test story, NLU examples, and corrected questions.

The loop Rasa X offered: a conversation that went wrong becomes a regression test (a test story
in bot/tests/, run by `rasa test core --stories tests`), the corrected user messages become NLU
training examples, and questions whose organisation was wrong join the retrieval dev set format
(evaluation/dev_questions.yaml) for `make eval`. Everything written is masked.

The YAML is written by hand (to keep comments saying who corrected what), with every user text
as a JSON string, which YAML reads as a double-quoted scalar: no text can break the file.
Names that come from the tracker (intents, actions, the language) are written bare only when
they look like names; anything else is quoted the same way, or left out with a note. Files and
headers name the conversation by its keyed hash (console.pseudonyms), never by the sender id.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from console.conversations import HIDDEN_ACTIONS, valid_language
from console.masking import mask_text
from console.project import Project, normalise
from console.pseudonyms import is_pseudonym
from opastin.nlu_text import strip_annotations

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,99}$")  # a Rasa intent, action or slot name


def _plain(text: str) -> str:
    # Square brackets in user text would read as entity annotations in Rasa's format.
    return mask_text(text).replace("[", "(").replace("]", ")")


def annotated_text(user: dict[str, Any], known_entities: set[str]) -> str:
    """The masked user text with Rasa entity annotations for the entities the NLU found."""
    raw = user.get("raw_text") or ""
    spans = sorted(
        (e for e in user.get("entities") or [] if _valid_span(e, raw, known_entities)),
        key=lambda e: e["start"],
    )
    out, position = [], 0
    for entity in spans:
        if entity["start"] < position:
            continue  # overlapping extractions: keep the first
        out.append(_plain(raw[position : entity["start"]]))
        surface = _plain(raw[entity["start"] : entity["end"]])
        value = entity.get("value")
        if value is None or str(value) == raw[entity["start"] : entity["end"]]:
            out.append(f"[{surface}]({entity['entity']})")
        else:
            attrs = {"entity": entity["entity"], "value": mask_text(str(value))}
            out.append(f"[{surface}]{json.dumps(attrs, ensure_ascii=False)}")
        position = entity["end"]
    out.append(_plain(raw[position:]))
    return "".join(out).strip()


def _valid_span(entity: dict[str, Any], raw: str, known: set[str]) -> bool:
    start, end = entity.get("start"), entity.get("end")
    return (
        entity.get("entity") in known
        and isinstance(start, int)
        and isinstance(end, int)
        and 0 <= start < end <= len(raw)
        and raw[start:end].strip() == raw[start:end]
    )


def export_name(conversation: str) -> str:
    """The files' name from the conversation's keyed hash: safe, unique, no sender id in it."""
    if not is_pseudonym(conversation):
        raise ValueError(f"not a conversation hash: {conversation[:20]!r}")
    return f"console_{conversation.replace('-', '_')}"


def _name(value: Any) -> str:
    """An intent or action name as a YAML scalar: bare when it is a name, else quoted."""
    text = str(value)
    return text if NAME.match(text) else _q(text)


def _comment(text: str) -> str:
    """Text for a YAML comment: one line, masked."""
    return " ".join(mask_text(text).split())


def _after_user(turn: dict[str, Any], known_slots: set[str]) -> list[str]:
    """The story steps after a user message: actions and slot events, in order.

    Slots set by an action are kept even when unchanged (the outage policy, and a faithful
    test, need to see that the action returned events); slot events before any action (from
    entities) only when they change a value.
    """
    lines: list[str] = []
    pending: dict[str, Any] = {}

    def flush() -> None:
        if pending:
            lines.append("      - slot_was_set:")
            lines.extend(
                f"          - {name}: {json.dumps(value, ensure_ascii=False)}"
                for name, value in pending.items()
            )
            pending.clear()

    for step in turn.get("steps") or []:
        if "action" in step:
            flush()
            lines.append(f"      - action: {_name(step['action'])}")
        elif step["slot"] in known_slots and (step["by_action"] or step["changed"]):
            pending[step["slot"]] = step["value"]
    flush()
    return lines


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


@dataclass
class Export:
    """The three files' texts and what was left out (and why)."""

    name: str
    story: str
    nlu: str | None
    questions: str | None
    notes: list[str] = field(default_factory=list)
    paths: dict[str, str] = field(default_factory=dict)

    def write(self, stories_dir: Path, nlu_dir: Path, questions_dir: Path) -> dict[str, str]:
        """Write (or overwrite, on a re-export) the files; returns kind -> path."""
        targets = [("story", stories_dir, self.story), ("nlu", nlu_dir, self.nlu)]
        targets.append(("questions", questions_dir, self.questions))
        for kind, folder, text in targets:
            path = folder / f"{self.name}.yml"
            if text is None:
                path.unlink(missing_ok=True)  # a re-export without corrections leaves no stale file
                continue
            folder.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".yml.partial")
            partial.write_text(text, encoding="utf-8")
            partial.replace(path)
            self.paths[kind] = str(path)
        return self.paths


def build_export(
    conversation: str,
    turns: list[dict[str, Any]],
    corrections: dict[int, dict[str, Any]],
    project: Project,
    now: datetime | None = None,
) -> Export:
    """Build the story, NLU and question files for one conversation (turns built with raw=True).

    `conversation` is the conversation's keyed hash (console.pseudonyms), not its sender id.
    """
    now = now or datetime.now(timezone.utc)
    name = export_name(conversation)
    intents = set(project.intents) | {"nlu_fallback"}
    known_orgs = {o["id"] for o in project.organisations}
    notes: list[str] = []
    steps: list[str] = []
    nlu: dict[str, list[str]] = {}
    questions: list[str] = []
    training = project.training_examples()

    for turn in turns:
        user = turn.get("user")
        if not user or not user.get("intent"):
            continue
        index = turn["index"]
        correction = corrections.get(index) or {}
        predicted = user["intent"]
        intent = correction.get("intent") or predicted
        if intent not in intents:
            notes.append(f"turn {index + 1}: intent {intent!r} is not in the domain; left out")
            continue
        text = annotated_text(user, project.entities)
        if correction.get("intent") and correction["intent"] != predicted:
            steps.append(
                "      # "
                + _comment(
                    f"turn {index + 1}: corrected by {correction.get('author')}, "
                    f"the bot predicted {predicted} ({user.get('confidence')})"
                )
            )
        steps.append(f"      - user: {_q(text)}")
        steps.append(f"        intent: {intent}")
        after = _after_user(turn, project.slots)
        if correction.get("intent") and correction["intent"] != predicted:
            expected = project.rule_actions.get(intent)
            taken = [a["name"] for a in turn["actions"] if a["name"] not in HIDDEN_ACTIONS]
            if expected and expected != taken:
                after = [f"      - action: {_name(action)}" for action in expected]
                notes.append(
                    f"turn {index + 1}: the story expects {', '.join(expected)} (the rules for "
                    f"{intent}); slots those actions set are not in it: check with rasa test"
                )
            elif not expected:
                notes.append(
                    f"turn {index + 1}: no rule says what follows {intent}; "
                    "the story keeps the actions the bot took: check them"
                )
            known = training.get(normalise(strip_annotations(text)))
            if known == intent:
                notes.append(f"turn {index + 1}: already a training example of {intent}")
            elif known:
                notes.append(
                    f"turn {index + 1}: the text is a training example of {known} in bot/data; "
                    f"not added to {intent} (fix the training data instead)"
                )
            elif intent != "nlu_fallback":
                nlu.setdefault(intent, []).append(text)
        organisation = correction.get("organisation")
        if organisation:
            if organisation not in known_orgs:
                notes.append(f"turn {index + 1}: unknown organisation {organisation!r}; left out")
            else:
                answered = ((turn.get("answer") or {}).get("organisations") or [{}])[0].get("id")
                steps.append(
                    "      # "
                    + _comment(
                        f"turn {index + 1}: the answer should name {organisation}"
                        f" (it named {answered or 'none'})"
                    )
                )
                questions.append(
                    f"- q: {_q(strip_annotations(text))}\n"
                    f"  lang: {valid_language(turn.get('language')) or 'und'}\n"
                    f"  orgs: [{organisation}]\n"
                    f"  tags: [reviewed]"
                )
        steps.extend(after)

    header = (
        f"# Exported from the staff console on {now:%Y-%m-%d %H:%M} UTC: conversation "
        f"{conversation}.\n# Personal data is masked. Run: rasa test core --stories tests\n"
    )
    story = (
        header
        + 'version: "3.1"\nstories:\n'
        + f"  - story: {_q(f'console review {name}')}\n    steps:\n"
        + ("\n".join(steps) if steps else "      []")
        + "\n"
    )
    nlu_text = None
    if nlu:
        blocks = [
            f"  - intent: {intent}\n    examples: |\n"
            + "\n".join(f"      - {' '.join(e.split())}" for e in dict.fromkeys(examples))
            for intent, examples in sorted(nlu.items())
        ]
        nlu_text = header + 'version: "3.1"\nnlu:\n' + "\n".join(blocks) + "\n"
    questions_text = None
    if questions:
        questions_text = (
            "# Questions whose organisation staff corrected; the format of "
            "evaluation/dev_questions.yaml.\n" + "\n".join(questions) + "\n"
        )
    return Export(name, story, nlu_text, questions_text, notes)
