"""Turn a conversation's tracker events into turns and a summary, and filter summaries.

One parser serves the "Try it" panel (events from Rasa's HTTP API), transcripts and the list
(events from the tracker store), so staff see the same details everywhere. Everything user
typed is masked here, before it reaches a page, an export or a chart.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from console.guests import is_guest
from console.masking import mask_data, mask_text
from console.pseudonyms import Pseudonyms
from console.store import ConversationKey, TrackerStore

FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTIONS = {"action_default_fallback", "action_two_stage_fallback"}
FEEDBACK_INTENT = "feedback"
TEST_PREFIX = "console-test-"
HIDDEN_ACTIONS = {"action_listen", "action_session_start"}
# A language as the widget (metadata.language) or the action payload names it: "fi", "zh-Hans".
# Anything else a client sends is ignored, so it reaches neither a filter menu nor an export.
LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,2}$")


def valid_language(value: Any) -> str | None:
    """The value if it is a language code, else None."""
    return value if isinstance(value, str) and LANGUAGE.match(value) else None


# Feedback wording that means "that answer was bad", in the languages the bot hears most.
# A heuristic: a widget that sends {"feedback": "negative"} in the message metadata is exact.
NEGATIVE = re.compile(
    r"wrong|not (?:helpful|what i|correct|right|useful)|unhelpful|useless|incorrect|outdated|"
    r"out of date|(?:doesn.t|does not|didn.t|did not) (?:work|help|understand)|bad answer|"
    r"terrible|väär|ei auttanut|huono|hyödytön|ei pidä paikkaansa|en kysynyt|vanhentun|"
    r"ei toimi|\bfel\b|hjälpte inte|dålig|värdelös|stämmer inte|fungerar inte|föråldrad|"
    r"inte det jag|неправильн|не помог|не допомогл|غير صحيح|درست نیست|khalad|ei aidanud|"
    r"不对|错|incorrecta|no sirve|no ayud",
    re.IGNORECASE,
)
POSITIVE = re.compile(
    r"helpful|great|perfect|good|thank|nice|exactly|hyvä|hyödyllinen|kiitos|auttoi|bra|"
    r"hjälpsam|tack|útil|спасибо|дякую|شكرا",
    re.IGNORECASE,
)


def feedback_sentiment(text: str, metadata: dict[str, Any] | None = None) -> str:
    """'negative', 'positive' or 'unknown' for a feedback message."""
    explicit = str((metadata or {}).get("feedback", "")).lower()
    if explicit in {"negative", "down", "-1", "bad"}:
        return "negative"
    if explicit in {"positive", "up", "1", "good"}:
        return "positive"
    if NEGATIVE.search(text or ""):
        return "negative"
    if POSITIVE.search(text or ""):
        return "positive"
    return "unknown"


def _new_turn(index: int | None, timestamp: float | None, session_start: bool = False) -> dict:
    return {
        "index": index,
        "timestamp": timestamp,
        "session_start": session_start,
        "user": None,
        "actions": [],
        "slots_set": {},
        "slots": {},
        "bot": [],
        "answer": None,
        "fallback": False,
        "feedback": None,
        "language": None,
        "steps": [],  # actions and slot events in order, for the exporter (raw=True only)
    }


def _user(event: dict[str, Any]) -> dict[str, Any]:
    parse = event.get("parse_data") or {}
    intent = parse.get("intent") or {}
    ranking = [
        {"name": r.get("name"), "confidence": _num(r.get("confidence"))}
        for r in (parse.get("intent_ranking") or [])[:5]
    ]
    entities = [
        {
            "entity": e.get("entity"),
            "value": e.get("value"),
            "start": e.get("start"),
            "end": e.get("end"),
            "text": (event.get("text") or "")[e["start"] : e["end"]]
            if isinstance(e.get("start"), int) and isinstance(e.get("end"), int)
            else None,
        }
        for e in parse.get("entities") or []
    ]
    return {
        "raw_text": event.get("text") or "",
        "intent": intent.get("name"),
        "confidence": _num(intent.get("confidence")),
        "ranking": ranking,
        "entities": entities,
        "channel": event.get("input_channel"),
        "metadata": parse.get("metadata") or {},
    }


def _num(value: Any) -> float | None:
    return round(float(value), 4) if isinstance(value, (int, float)) else None


def build_turns(events: list[dict[str, Any]], *, raw: bool = False) -> list[dict[str, Any]]:
    """Group events into turns: one per user message (plus session starts and bot openers).

    Returns masked turns; `raw=True` keeps each user message's original text in `raw_text`
    (only the exporter uses it, to place entity annotations before masking).
    """
    turns: list[dict[str, Any]] = []
    slots: dict[str, Any] = {}
    current = _new_turn(None, None)
    user_index = 0

    def close() -> None:
        current["slots"] = dict(slots)
        if current["user"] or current["bot"] or current["session_start"] or current["actions"]:
            turns.append(current)

    for event in events:
        kind = event.get("event")
        timestamp = event.get("timestamp")
        if kind == "user":
            close()
            current = _new_turn(user_index, timestamp)
            user_index += 1
            current["user"] = _user(event)
            intent = current["user"]["intent"]
            current["fallback"] = intent == FALLBACK_INTENT
            if intent == FEEDBACK_INTENT:
                current["feedback"] = feedback_sentiment(
                    current["user"]["raw_text"], current["user"]["metadata"]
                )
            language = valid_language(current["user"]["metadata"].get("language"))
            if language:
                current["language"] = language
        elif kind == "session_started":
            close()
            current = _new_turn(None, timestamp, session_start=True)
        elif kind == "action":
            name = event.get("name")
            if name in FALLBACK_ACTIONS:
                current["fallback"] = True
            if name not in HIDDEN_ACTIONS:
                current["steps"].append({"action": name})
                current["actions"].append(
                    {
                        "name": name,
                        "policy": event.get("policy"),
                        "confidence": _num(event.get("confidence")),
                    }
                )
        elif kind == "slot":
            name, value = event.get("name"), event.get("value")
            if not isinstance(name, str):  # Rasa always names the slot; skip a malformed event
                continue
            current["steps"].append(
                {
                    "slot": name,
                    "value": value,
                    "by_action": bool(current["actions"]),
                    "changed": slots.get(name) != value,
                }
            )
            slots[name] = value
            current["slots_set"][name] = value
        elif kind == "bot":
            data = event.get("data") or {}
            custom = data.get("custom")
            buttons = [
                str(b.get("title", "")) for b in data.get("buttons") or [] if isinstance(b, dict)
            ]
            current["bot"].append({"text": event.get("text"), "custom": custom, "buttons": buttons})
            # The action's payload: service_answer, no_answer, clarification, handoff, ...
            if isinstance(custom, dict) and isinstance(custom.get("type"), str):
                current["answer"] = custom
                if valid_language(custom.get("language")):
                    current["language"] = custom["language"]
        elif kind == "restart":
            slots.clear()
    close()
    for turn in turns:
        if turn["language"] is None and valid_language(turn["slots"].get("language")):
            turn["language"] = turn["slots"]["language"]
        if turn["user"]:
            turn["user"]["text"] = mask_text(turn["user"]["raw_text"])
            if not raw:
                del turn["user"]["raw_text"]
            turn["user"]["entities"] = mask_data(turn["user"]["entities"])
            turn["user"]["metadata"] = mask_data(turn["user"]["metadata"])
        if raw:
            turn["steps"] = mask_data(turn["steps"])
        else:
            del turn["steps"]
        turn["slots"] = mask_data(turn["slots"])
        turn["slots_set"] = mask_data(turn["slots_set"])
        for message in turn["bot"]:
            message["text"] = mask_text(message["text"] or "")
    return turns


def with_corrections(
    turns: list[dict[str, Any]], corrections: dict[int, dict[str, Any]]
) -> list[dict[str, Any]]:
    """Give each user turn its stored correction (or None), as Try it and transcripts show."""
    for turn in turns:
        turn["correction"] = corrections.get(turn["index"]) if turn["index"] is not None else None
    return turns


@dataclass
class Summary:
    """What the list, the filters and the charts need about one conversation.

    `conversation` is the keyed hash of the sender id (console.pseudonyms): the only name of the
    conversation that leaves the console's process.
    """

    sender_id: str
    conversation: str
    started: float
    last: float
    messages: int = 0
    channels: set[str] = field(default_factory=set)
    languages: set[str] = field(default_factory=set)
    intents: set[str] = field(default_factory=set)
    fallback: bool = False
    fallback_messages: int = 0
    negative_feedback: bool = False
    preview: str = ""
    search_text: str = ""
    unanswered: list[tuple[str, str]] = field(default_factory=list)  # (masked text, reason)
    answers: list[str] = field(default_factory=list)  # most responsible organisation per answer
    message_log: list[tuple[float, bool]] = field(default_factory=list)  # (time, fallback)

    @property
    def test(self) -> bool:
        return self.sender_id.startswith(TEST_PREFIX)

    @property
    def guest(self) -> bool:
        """A conversation of a guest tester link (console.guests)."""
        return is_guest(self.sender_id)

    def as_json(self, tz: ZoneInfo) -> dict[str, Any]:
        return {
            "conversation": self.conversation,
            "started": _iso(self.started, tz),
            "last": _iso(self.last, tz),
            "messages": self.messages,
            "channels": sorted(self.channels),
            "languages": sorted(self.languages),
            "intents": sorted(self.intents),
            "fallback": self.fallback,
            "negative_feedback": self.negative_feedback,
            "preview": self.preview,
            "test": self.test,
            "guest": self.guest,
        }


def _iso(timestamp: float, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(timestamp, tz).isoformat(timespec="seconds")


def summarise(sender_id: str, conversation: str, events: list[dict[str, Any]]) -> Summary:
    """One conversation's summary for the list, the filters and the charts."""
    times = [float(e["timestamp"]) for e in events if isinstance(e.get("timestamp"), (int, float))]
    summary = Summary(sender_id, conversation, min(times, default=0.0), max(times, default=0.0))
    texts: list[str] = []
    for turn in build_turns(events):
        user = turn["user"]
        if turn["language"]:
            summary.languages.add(turn["language"])
        answer = turn["answer"] or {}
        if answer.get("type") == "service_answer" and answer.get("organisations"):
            summary.answers.append(str(answer["organisations"][0].get("id")))
        texts.extend(m["text"] for m in turn["bot"] if m["text"])
        if user is None:
            continue
        summary.messages += 1
        summary.message_log.append((turn["timestamp"] or summary.started, turn["fallback"]))
        if user["channel"]:
            summary.channels.add(user["channel"])
        if user["intent"]:
            summary.intents.add(user["intent"])
        if turn["fallback"]:
            summary.fallback = True
            summary.fallback_messages += 1
        if turn["feedback"] == "negative":
            summary.negative_feedback = True
        if answer.get("type") == "no_answer":
            summary.unanswered.append((user["text"], str(answer.get("reason") or "")))
        if not summary.preview and user["text"]:
            summary.preview = user["text"][:120]
        texts.append(user["text"])
    summary.search_text = "\n".join([conversation, *texts]).casefold()
    return summary


class ConversationIndex:
    """Summaries of every conversation, re-read only for conversations that changed.

    Each refresh asks the store for (events, last id) per conversation, one grouped query, and
    re-summarises the conversations whose numbers moved; deleted ones drop out.
    """

    def __init__(self, store: TrackerStore, pseudonyms: Pseudonyms) -> None:
        self.store = store
        self.pseudonyms = pseudonyms
        self._keys: dict[str, ConversationKey] = {}
        self._summaries: dict[str, Summary] = {}
        self._lock = threading.Lock()

    def refresh(self) -> dict[str, Summary]:
        """All summaries, up to date with the store."""
        with self._lock:
            keys = self.store.keys()
            changed = [s for s, k in keys.items() if self._keys.get(s) != k]
            for sender, events in self.store.events_of(changed).items():
                self._summaries[sender] = summarise(sender, self.pseudonyms.of(sender), events)
            for gone in set(self._summaries) - set(keys):
                del self._summaries[gone]
            self._keys = keys
            return dict(self._summaries)

    def sender_of(self, conversation: str) -> str | None:
        """The sender id behind a conversation's keyed hash (None if there is no such one)."""
        for summary in self.refresh().values():
            if summary.conversation == conversation:
                return summary.sender_id
        return None
