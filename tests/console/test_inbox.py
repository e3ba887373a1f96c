"""The inbox over HTTP: every user message across conversations, its filters, paging, masking,
and how it follows the tracker store (new events, deleted conversations).

Sample conversations (conftest.py): web-aaa (2 days ago), tg-bbb (yesterday, Finnish, with
negative feedback), web-ccc (an hour ago: a fallback, an answer, positive feedback), web-ddd
(half an hour ago: out of scope) and one Try-it test conversation.
"""

from __future__ import annotations

from console.context import CONSOLE
from console.inbox import Inbox
from console.store import TrackerStore
from tests.console.conftest import (
    DAY,
    NOON_TODAY,
    TODAY,
    Conversation,
    sender_of,
    write_store,
)

NEWEST_FIRST = [
    ("web-ddd", 0),
    ("web-ccc", 2),
    ("web-ccc", 1),
    ("web-ccc", 0),
    ("tg-bbb", 1),
    ("tg-bbb", 0),
    ("web-aaa", 1),
    ("web-aaa", 0),
]


def refs(body):
    return [(sender_of(i["conversation"]), i["turn"]) for i in body["items"]]


def test_every_user_message_newest_first_with_what_the_bot_made_of_it(console):
    body = console.logged_in().get("/api/inbox").json()
    assert body["total"] == 8 and refs(body) == NEWEST_FIRST  # users only by default
    tax = body["items"][6]
    assert tax["text"] == "How do I get a tax card? Mail me at <EMAIL>"
    assert (tax["intent"], tax["confidence"], tax["organisation"]) == (
        "tax_registration",
        0.9,
        "vero",
    )
    assert (tax["language"], tax["channel"], tax["answer"]) == ("en", "socketio", "service_answer")
    assert tax["time"].startswith(str(TODAY.fromordinal(TODAY.toordinal() - 2)))
    assert body["items"][3]["text"] == "qwzx blorp <ID_CODE>"
    assert body["items"][5]["text"] == "Miten saan oleskeluluvan? Soita <PHONE>"
    assert body["facets"]["languages"] == ["en", "fi"]
    assert body["facets"]["organisations"] == ["dvv", "migri", "vero"]
    assert "telegram" in body["facets"]["channels"]


def test_filters(console):
    client = console.logged_in()

    def found(**query):
        return refs(client.get("/api/inbox", **query).json())

    assert found(fallback=1) == [("web-ccc", 0)]
    assert found(low_confidence=1) == [("web-ccc", 0)]  # 0.25 < 0.7 (CONSOLE_LOW_CONFIDENCE)
    # "väärä vastaus" marks the question it answers, not itself
    assert found(negative=1) == [("tg-bbb", 0)]
    assert found(language="fi") == [("tg-bbb", 1), ("tg-bbb", 0)]
    assert found(channel="telegram") == [("tg-bbb", 1), ("tg-bbb", 0)]
    assert found(intent="out_of_scope") == [("web-ddd", 0)]
    assert found(organisation="dvv") == [("web-ccc", 1)]
    assert found(date_from=str(TODAY)) == NEWEST_FIRST[:4]
    assert found(date_to=str(TODAY.fromordinal(TODAY.toordinal() - 1))) == NEWEST_FIRST[4:]
    assert found(q="TAX CARD") == [("web-aaa", 1)]
    assert found(q="maija") == []  # the e-mail address is masked before it is searchable
    assert found(q="100%_") == []  # LIKE wildcards are literal
    assert found(source="tests") == [("console-test-0123456789abcdef", 0)]
    assert len(found(source="all")) == 9
    assert found(fallback=1, language="fi") == []
    bad = client.get("/api/inbox", date_from="yesterday")
    assert bad.status == 400 and "date_from" in bad.json()["error"]
    assert client.get("/api/inbox", annotated="maybe").status == 400


def test_clarifying_questions_are_a_filter(console):
    asked = Conversation("web-eee", NOON_TODAY - 60).user(
        "where do I register", "population_registration"
    )
    asked.action("action_answer_question").bot(
        "Which city do you live in?",
        {
            "type": "clarification",
            "slot": "municipality",
            "options": ["helsinki"],
            "language": "en",
        },
    ).listen()
    write_store(console.tracker, [asked])
    client = console.logged_in()
    assert refs(client.get("/api/inbox", clarifying=1).json()) == [("web-eee", 0)]


def test_pages(console):
    client = console.logged_in()
    first = client.get("/api/inbox", limit=3).json()
    second = client.get("/api/inbox", limit=3, offset=3).json()
    assert refs(first) + refs(second) == NEWEST_FIRST[:6]
    assert first["total"] == second["total"] == 8


def test_follows_new_events_and_deleted_conversations(console):
    client = console.logged_in()
    assert client.get("/api/inbox").json()["total"] == 8
    later = Conversation("web-fff", NOON_TODAY + 60).user(
        "how do I get a tax card", "tax_registration"
    )
    write_store(console.tracker, [later.answer(["vero"])])
    body = client.get("/api/inbox").json()
    assert body["total"] == 9 and refs(body)[0] == ("web-fff", 0)
    # more events in a conversation already indexed
    more = Conversation("web-ddd", NOON_TODAY + 120).user("and my pension?", "pension")
    write_store(console.tracker, [more])
    assert refs(client.get("/api/inbox").json())[0] == ("web-ddd", 1)
    # retention deletes whole conversations: the inbox drops their messages (events are counted
    # at most once a minute; here at every refresh)
    console.app[CONSOLE].inbox.deletion_check_seconds = 0
    TrackerStore(str(console.tracker)).delete(["web-aaa", "tg-bbb"])
    body = client.get("/api/inbox").json()
    assert body["total"] == 6
    assert not {s for s, _ in refs(body)} & {"web-aaa", "tg-bbb"}


def test_refresh_reads_only_conversations_with_new_events(console, tmp_path):
    inbox = Inbox(TrackerStore(str(console.tracker)), tmp_path / "fresh.db", clock=console.clock)
    assert inbox.refresh() == 5  # first time: every conversation
    assert inbox.refresh() == 0  # nothing new: no conversation re-read
    write_store(console.tracker, [Conversation("web-ggg", NOON_TODAY).user("hi", "greet")])
    assert inbox.refresh() == 1
    # a deletion is noticed when events are next counted, at most once a minute
    TrackerStore(str(console.tracker)).delete(["web-ggg"])
    assert inbox.refresh() == 0
    console.clock.now += 61
    assert inbox.refresh() == 1
    assert "web-ggg" not in {s for s, _ in inbox.messages([("web-ggg", 0)])}


def test_a_page_during_a_long_refresh_is_served_and_says_updating(console):
    inbox = console.app[CONSOLE].inbox
    client = console.logged_in()
    assert client.get("/api/inbox").json()["updating"] is False
    with inbox._lock:  # as while the first build of a large store runs
        body = client.get("/api/inbox").json()
    assert body["updating"] is True and body["total"] == 8


def test_search_uses_the_index_for_three_characters_or_more(console):
    client = console.logged_in()
    assert refs(client.get("/api/inbox", q="JO").json()) == [("web-ddd", 0)]  # a scan
    assert client.get("/api/inbox", q="oleskelulupa").json()["total"] == 0
    assert client.get("/api/inbox", q="OLESKELULUVAN").json()["total"] == 1  # index
    assert client.get("/api/inbox", q='a "joke" OR x').json()["total"] == 0  # no query syntax
    assert refs(client.get("/api/inbox", q="a jo").json()) == [("web-ddd", 0)]
    assert refs(client.get("/api/inbox", q="%").json()) == []  # LIKE wildcards are literal


def test_user_html_stays_text(console):
    body = console.logged_in().get("/api/inbox", source="tests").json()
    assert body["items"][0]["text"].startswith("<img src=x")  # JSON data; the page uses textContent
    assert body["items"][0]["test"] is True


def test_messages_two_days_old_and_older_are_reachable_by_date(console):
    old = Conversation("web-old", NOON_TODAY - 30 * DAY).user("vanha kysymys", "pension")
    write_store(console.tracker, [old])
    client = console.logged_in()
    day = TODAY.fromordinal(TODAY.toordinal() - 30)
    assert refs(client.get("/api/inbox", date_from=str(day), date_to=str(day)).json()) == [
        ("web-old", 0)
    ]


def test_a_forgotten_conversation_leaves_no_text_in_the_inbox_table(console, tmp_path):
    """`forget` (a deletion request) may run while no console runs: the inbox's copy of the
    messages goes at once with the corrections, annotations and tags, not at the next refresh."""
    from console.state import ConsoleState

    state_db = tmp_path / "state.db"
    inbox = Inbox(TrackerStore(str(console.tracker)), state_db, clock=console.clock)
    inbox.refresh()
    assert inbox.messages([("web-aaa", 0)])
    ConsoleState(state_db).forget(["web-aaa"])
    assert inbox.messages([("web-aaa", 0)]) == {}
    assert "web-aaa" not in inbox.senders()
