"""Guest tester links: an admin makes a time-limited, revocable link; guests without an account
chat on its page; their conversations are tagged and listed apart; closed links say so.

Rasa is the loopback stand-in of tests/console/test_rasa_client.py (the real one is in the e2e
suite); guest conversations in the lists are written to the tracker store as Rasa writes them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.app import make_app
from console.context import CONSOLE
from console.guests import GuestLinks, check_label
from console.tags import CONVERSATION
from opastin.config import Settings
from tests.aiohttp_server import serve
from tests.console.conftest import (
    NOON_TODAY,
    Clock,
    Conversation,
    Running,
    console_settings,
    corpus_copy,
    pseudonym,
    sample_conversations,
    sender_of,
    write_store,
)
from tests.console.test_rasa_client import TOKEN, StandIn

GUEST = "console-guest-1-00112233445566aa"


@pytest.fixture
def with_rasa(tmp_path: Path) -> Iterator[tuple[Running, StandIn]]:
    """The console over the sample conversations plus one guest's, talking to the stand-in."""
    guest = Conversation(GUEST, NOON_TODAY - 300).user("tax card", "tax_registration", 0.9)
    tracker = tmp_path / "tracker.db"
    write_store(tracker, [*sample_conversations(NOON_TODAY), guest.answer(["vero"])])
    stand_in = StandIn()
    with serve(stand_in.app()) as rasa_url:
        settings = console_settings(tmp_path, tracker, rasa_url=rasa_url, rasa_token=TOKEN)
        app = make_app(settings, Settings(corpus_dir=corpus_copy(tmp_path)), clock=Clock())
        with serve(app) as url:
            yield Running(url, Clock(), settings, tracker, app), stand_in


def guest_sender(page: str) -> str:
    return re.search(r'data-sender="([^"]+)"', page).group(1)


def test_a_guest_chats_on_the_link_page_without_an_account(with_rasa):
    console, rasa = with_rasa
    admin = console.logged_in()
    made = admin.post("/api/guest-links", {"label": "Espoo pilot", "hours": 48})
    assert made.status == 200, made.text
    link = made.json()
    assert (link["label"], link["state"], link["author"]) == ("Espoo pilot", "open", "staff.one")
    assert link["url"] == console.url + link["path"]
    assert link["expires"] - link["created"] == 48 * 3600
    assert "token" not in str(admin.get("/api/guest-links").json())  # shown once, stored hashed

    guest = console.client()  # no login, no cookie
    page = guest.get(link["path"])
    assert page.status == 200 and "Espoo pilot" in page.text
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
    sender = guest_sender(page.text)
    assert sender.startswith("console-guest-1-")
    assert guest.get("/guest.js").status == 200
    sent = guest.post(link["path"] + "/message", {"sender_id": sender, "text": "tax card"})
    assert sent.status == 200, sent.text
    assert sent.json() == {"replies": [{"recipient_id": "x", "text": "Hi!"}]}  # no tracker
    webhook = rasa.seen[0]["webhook"]
    assert webhook["sender"] == sender and webhook["metadata"] == {"guest_link": "Espoo pilot"}
    tags = console.app[CONSOLE].tags.of([sender])[(sender, CONVERSATION)]
    assert sorted(t["tag"] for t in tags) == ["guest", "guest:Espoo pilot"]
    # Only the chat: another link's or Try it's sender ids, and the staff API, are refused.
    for other in ("console-guest-2-00112233445566aa", "console-test-0123456789abcdef"):
        refused = guest.post(link["path"] + "/message", {"sender_id": other, "text": "hi"})
        assert refused.status == 400
    assert guest.get("/api/conversations").status == 401
    assert guest.post(link["path"] + "/message", {"sender_id": sender, "text": ""}).status == 400
    console.app[CONSOLE].guests.per_minute = 1  # the one message above used the link's minute
    slowed = guest.post(link["path"] + "/message", {"sender_id": sender, "text": "again"})
    assert slowed.status == 429 and 0 < int(slowed.headers["Retry-After"]) <= 60


def test_revoked_expired_and_unknown_links_get_a_clear_page(with_rasa):
    console, _ = with_rasa
    admin, guest = console.logged_in(), console.client()
    first = admin.post("/api/guest-links", {"label": "week 48", "hours": 1}).json()
    second = admin.post("/api/guest-links", {"label": "library", "hours": 2}).json()
    sender = guest_sender(guest.get(first["path"]).text)

    revoked = admin.post(f"/api/guest-links/{first['id']}/revoke", {})
    assert (revoked.json()["state"], revoked.json()["revoked_by"]) == ("revoked", "staff.one")
    page = guest.get(first["path"])
    assert page.status == 410 and "was closed" in page.text
    message = guest.post(first["path"] + "/message", {"sender_id": sender, "text": "hi"})
    assert message.status == 410 and "was closed" in message.json()["error"]

    links = console.app[CONSOLE].guests
    now = links.clock()
    links.clock = lambda: now + 2 * 3600  # two hours later: the second link has expired
    page = guest.get(second["path"])
    assert page.status == 410 and "has expired" in page.text
    states = {
        item["label"]: item["state"] for item in admin.get("/api/guest-links").json()["links"]
    }
    assert states == {"week 48": "revoked", "library": "expired"}

    unknown = guest.get("/guest/not-a-token")
    assert unknown.status == 404 and "does not exist" in unknown.text
    assert admin.post("/api/guest-links/99/revoke", {}).status == 404
    for body in ({"label": "", "hours": 5}, {"label": "x", "hours": 0},
                 {"label": "x", "hours": 31 * 24}, {"label": "a;b", "hours": 5}):  # fmt: skip
        assert admin.post("/api/guest-links", body).status == 400, body


def test_guest_conversations_are_listed_apart(with_rasa):
    """The list and the inbox show users by default; guests under their own source filter."""
    console, _ = with_rasa
    client = console.logged_in()

    def listed(path: str, **query: str) -> set[str]:
        return {sender_of(i["conversation"]) for i in client.get(path, **query).json()["items"]}

    pseudonym(GUEST)
    assert GUEST not in listed("/api/conversations", source="users")
    assert listed("/api/conversations", source="guests") == {GUEST}
    assert GUEST in listed("/api/conversations")  # "all", the list's default
    assert GUEST not in listed("/api/inbox")  # the inbox's default is users
    assert listed("/api/inbox", source="guests") == {GUEST}
    assert client.get("/api/inbox", source="visitors").status == 400
    item = client.get("/api/conversations", source="guests").json()["items"][0]
    assert (item["guest"], item["test"]) == (True, False)


def test_tags_show_in_the_conversation_list_and_the_transcript(console):
    client = console.logged_in()
    aaa = pseudonym("web-aaa")
    body = {"tag": "needs corpus update", "conversations": [aaa]}
    assert client.post("/api/tags", body).status == 200
    one = {"tag": "wrong org", "messages": [{"conversation": aaa, "turn": 1}]}
    assert client.post("/api/tags", one).status == 200
    items = {i["conversation"]: i for i in client.get("/api/conversations").json()["items"]}
    assert items[aaa]["tags"] == ["needs corpus update"]
    assert items[aaa]["message_tags"] == ["wrong org"]
    assert items[pseudonym("web-ccc")]["tags"] == []
    transcript = client.get(f"/api/conversations/{aaa}").json()
    assert transcript["tags"] == ["needs corpus update"]
    user_turns = [t for t in transcript["turns"] if t["index"] is not None]
    assert [t["tags"] for t in user_turns] == [[], ["wrong org"]]


def test_one_link_sends_at_most_its_messages_a_minute(tmp_path):
    now = [1000.0]
    links = GuestLinks(tmp_path / "c.db", per_minute=2, clock=lambda: now[0])
    first, _ = links.create("pilot", 1, "maija")
    second, _ = links.create("other", 1, "maija")
    assert [links.allow(first), links.allow(first)] == [0, 0]
    assert links.allow(first) == 60  # a whole minute until the first one leaves the window
    assert links.allow(second) == 0  # each link has its own budget
    now[0] += 30
    assert links.allow(first) == 30
    now[0] += 30
    assert links.allow(first) == 0


def test_a_link_label_becomes_a_tag_and_tokens_are_stored_hashed(tmp_path):
    assert check_label("  Espoo   pilot ") == "Espoo pilot"
    for bad in ("", "x" * 35, "<b>", None, 5):
        with pytest.raises(ValueError, match="label"):
            check_label(bad)
    links = GuestLinks(tmp_path / "c.db")
    link, token = links.create("pilot", 1, "maija")
    assert links.open_link(token) == link and link.owns(link.new_sender())
    assert token not in (tmp_path / "c.db").read_bytes().decode("utf-8", "replace")
