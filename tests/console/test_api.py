"""Every console endpoint over HTTP: refused without a login, and doing its job with one.

The console runs on a free port over a SQLite tracker store holding five sample conversations
in Rasa's event format (conftest.py); nothing here needs the Rasa server.
"""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
import yaml

from console.app import make_app
from console.routes import PUBLIC
from console.store import TrackerStore
from opastin.config import Settings
from tests.aiohttp_server import serve
from tests.console.conftest import (
    DAY,
    MINI_CORPUS,
    NOON_TODAY,
    TODAY,
    USER,
    Client,
    Conversation,
    pseudonym,
    write_store,
)
from tools.eval.retrieval import load_questions

SENDER = pseudonym("web-ccc")
# The list names conversations by keyed hash; the tests read them back as the sample sender ids.
SAMPLE_SENDERS = ["web-aaa", "tg-bbb", "web-ccc", "web-ddd", "console-test-0123456789abcdef"]
EXTRA_SENDERS = ["web-new", "web-old", "web-ancient", "telegram-987654321"]
BY_PSEUDONYM = {pseudonym(s): s for s in [*SAMPLE_SENDERS, *EXTRA_SENDERS]}
# Every route the app has, with sample path values (a test below checks this list is complete).
PROTECTED = [
    ("GET", "/"),
    ("GET", "/static/console.js"),
    ("GET", "/static/console.css"),
    ("GET", "/static/charts.js"),
    ("GET", "/static/inbox.js"),
    ("GET", "/static/suggest.js"),
    ("GET", "/static/models.js"),
    ("POST", "/logout"),
    ("GET", "/api/meta"),
    ("POST", "/api/try/new"),
    ("POST", "/api/try/message"),
    ("GET", "/api/conversations"),
    ("GET", f"/api/conversations/{SENDER}"),
    ("POST", f"/api/conversations/{SENDER}/corrections"),
    ("POST", f"/api/conversations/{SENDER}/export"),
    ("GET", "/api/stats"),
    ("GET", "/api/inbox"),
    ("POST", "/api/inbox/annotations"),
    ("POST", "/api/inbox/annotations/undo"),
    ("POST", "/api/inbox/export"),
    ("POST", "/api/tags"),
    ("POST", "/api/tags/remove"),
    ("GET", "/api/corpus/services/vero.tax_card"),
    ("GET", "/api/suggestions"),
    ("POST", "/api/suggestions"),
    ("POST", "/api/suggestions/1/reject"),
    ("POST", "/api/suggestions/1/accept"),
    ("GET", "/api/guest-links"),
    ("POST", "/api/guest-links"),
    ("POST", "/api/guest-links/1/revoke"),
    ("GET", "/api/accounts"),
    ("POST", f"/api/accounts/{USER}/role"),
    ("GET", "/api/models"),
    ("POST", "/api/models/train"),
    ("POST", "/api/models/m1/publish"),
]
SAMPLE_VALUES = {
    "{sender_id}": SENDER,
    "{name}": "console.js",
    "{account}": USER,
    "{service_id}": "vero.tax_card",
    "{number}": "1",
    "{model_id}": "m1",
}


def test_the_protected_list_covers_every_route(console):
    routes = set()
    for route in console.app.router.routes():
        if route.method == "HEAD":
            continue
        path = route.resource.canonical
        for placeholder, value in SAMPLE_VALUES.items():
            path = path.replace(placeholder, value)
        routes.add((route.method, path))
    # One route serves the three static files; each of them is checked below.
    expected = {r for r in PROTECTED if not r[1].startswith("/static/")}
    assert routes == expected | {("GET", "/static/console.js")} | PUBLIC


def test_only_the_login_form_and_guest_pages_are_public():
    """Making a route public in console/routes.py must be a deliberate change here too."""
    login = {("GET", "/login"), ("POST", "/login"), ("GET", "/login.css")}
    guests = {("GET", "/guest/{token}"), ("POST", "/guest/{token}/message"), ("GET", "/guest.js")}
    assert login | guests == PUBLIC


def test_a_path_the_route_table_does_not_name_needs_a_session(console):
    """Unknown paths are refused like protected ones: a 404 would show which routes exist."""
    client = console.client()
    assert client.get("/api/no-such-thing").json() == {"error": "log in first"}
    assert client.request("POST", "/login.css").status == 401
    assert client.get("/favicon.ico").headers["Location"] == "/login"


@pytest.mark.parametrize(("method", "path"), PROTECTED)
@pytest.mark.parametrize("cookie", [None, "forged-session-id"])
def test_every_endpoint_refuses_an_unauthenticated_request(shared_console, method, path, cookie):
    client = shared_console.client()
    if cookie:
        client.cookies["opastin_console"] = cookie
    response = client.request(method, path, json_body={} if method == "POST" else None)
    if method == "GET" and not path.startswith("/api/"):
        assert response.status == 303
        assert response.headers["Location"] == "/login"
    else:
        assert response.status == 401
        assert response.json() == {"error": "log in first"}
    assert b"web-" not in response.body and b"tax" not in response.body


def test_each_endpoint_answers_once_logged_in(console):
    """The same list, logged in: nothing refuses (so the test above tests the login)."""
    client = console.logged_in()
    bodies = {
        "/api/try/message": {"sender_id": "console-test-0000000000", "text": "hi"},
        f"/api/conversations/{SENDER}/corrections": {"turn": 0, "intent": "greet"},
        "/api/inbox/annotations": {
            "messages": [{"conversation": SENDER, "turn": 0}],
            "intent": "greet",
        },
        "/api/inbox/annotations/undo": {"messages": [{"conversation": SENDER, "turn": 0}]},
        "/api/tags": {"tag": "needs corpus update", "conversations": [SENDER]},
        "/api/tags/remove": {"tag": "needs corpus update", "conversations": [SENDER]},
        f"/api/accounts/{USER}/role": {"role": "admin"},
        "/api/suggestions": {
            "service": "vero.tax_card",
            "kind": "alias",
            "language": "en",
            "text": "verokortti",
        },
        "/api/suggestions/1/reject": {"note": "already covered"},
        "/api/guest-links": {"label": "pilot", "hours": 24},
    }
    # Made, then decided: accepting the rejected suggestion is refused (not by the login).
    statuses = {
        "/api/try/message": 502,
        "/api/suggestions/1/accept": 409,
        "/api/models/m1/publish": 404,  # there is no model m1
    }
    for method, path in PROTECTED:
        if path in {"/logout", "/api/models/train"}:  # training: test_console_e2e.py
            continue
        response = client.request(
            method, path, json_body=bodies.get(path), headers={"X-CSRF-Token": client.csrf}
        )
        # Try it reaches no Rasa here (502); every other endpoint succeeds.
        assert response.status == statuses.get(path, 200), (path, response.body[:300])
    assert client.post("/logout").status == 200
    assert client.get("/api/meta").status == 401


def test_login_page_and_security_headers(console):
    response = console.client().get("/login")
    assert response.status == 200
    assert 'name="csrf"' in response.text
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert console.client().get("/login.css").status == 200


def test_login_sets_a_strict_http_only_cookie(console):
    client = console.client()
    page = client.get("/login").text
    token = page.split('name="csrf" value="')[1].split('"')[0]
    body = f"username=staff.one&password=a+long+staff+password&csrf={token}".encode()
    response = client.request(
        "POST", "/login", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status == 303 and response.headers["Location"] == "/"
    cookie = next(c for c in response.headers.get_all("Set-Cookie") if "opastin_console=" in c)
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert client.get("/").status == 200


def test_wrong_password_and_unknown_user_are_refused(console):
    assert console.client().login(password="wrong password!").status == 401
    assert console.client().login(user="nobody").status == 401
    assert "opastin_console" not in console.client().cookies


def test_login_without_the_form_token_is_refused(console):
    client = console.client()
    client.get("/login")
    body = b"username=staff.one&password=a+long+staff+password&csrf=guessed"
    response = client.request(
        "POST", "/login", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status == 403
    assert client.get("/api/meta").status == 401


def test_sessions_expire_when_idle_and_at_their_maximum_age(console):
    client = console.logged_in()
    console.clock.now += 29 * 60
    assert client.get("/api/meta").status == 200  # activity restarts the idle timer
    console.clock.now += 31 * 60
    assert client.get("/api/meta").status == 401
    client = console.logged_in()
    for _ in range(17):  # active every 29 minutes, still ends after 8 hours
        console.clock.now += 29 * 60
        last = client.get("/api/meta").status
    assert last == 401


def test_state_changes_need_the_csrf_token_and_the_same_origin(console):
    client = console.logged_in()
    assert client.post("/api/try/new", csrf=False).status == 403
    assert client.post("/api/try/new", headers={"X-CSRF-Token": "wrong"}, csrf=False).status == 403
    evil = {"Origin": "https://evil.example"}
    assert client.post("/api/try/new", headers=evil).status == 403
    same = {"Origin": console.url}
    assert client.post("/api/try/new", headers=same).status == 200


def test_meta_lists_intents_and_organisations(console):
    meta = console.logged_in().get("/api/meta").json()
    assert meta["user"] == "staff.one"
    assert "tax_registration" in meta["intents"] and "feedback" in meta["intents"]
    assert {"id": "vero", "name": "Finnish Tax Administration"} in meta["organisations"]


def test_static_files_only_those_of_the_console(console):
    client = console.logged_in()
    assert client.get("/static/console.js").status == 200
    assert client.get("/static/login.html").status == 404
    assert client.get("/static/..%2Fapp.py").status == 404


def test_try_new_gives_a_fresh_test_user_each_time(console):
    client = console.logged_in()
    first = client.post("/api/try/new").json()["sender_id"]
    second = client.post("/api/try/new").json()["sender_id"]
    assert first.startswith("console-test-") and first != second


def test_try_message_only_for_test_users_and_reports_an_unreachable_rasa(console):
    client = console.logged_in()
    real_user = client.post("/api/try/message", {"sender_id": "web-aaa", "text": "hi"})
    assert real_user.status == 400  # staff cannot write into a real user's conversation
    empty = client.post("/api/try/message", {"sender_id": "console-test-0123456789", "text": " "})
    assert empty.status == 400
    down = client.post("/api/try/message", {"sender_id": "console-test-0123456789", "text": "hi"})
    assert down.status == 502 and "not reachable" in down.json()["error"]


# ----------------------------------------------------------------------------- the list


def ids(response) -> list[str]:
    assert response.status == 200, response.body
    return names(response.json())


def names(data) -> list[str]:
    return [BY_PSEUDONYM.get(c["conversation"], c["conversation"]) for c in data["items"]]


def test_list_is_newest_first_with_facets(console):
    data = console.logged_in().get("/api/conversations").json()
    assert names(data) == [
        "console-test-0123456789abcdef",
        "web-ddd",
        "web-ccc",
        "tg-bbb",
        "web-aaa",
    ]
    assert data["total"] == 5
    assert data["facets"]["channels"] == ["rest", "socketio", "telegram"]
    assert data["facets"]["languages"] == ["en", "fi"]
    first = data["items"][-1]
    assert first["preview"] == "hello" and first["messages"] == 2
    assert first["channels"] == ["socketio"]


def test_list_text_search_sees_masked_text_only(console):
    client = console.logged_in()
    assert ids(client.get("/api/conversations", q="TAX CARD")) == [
        "console-test-0123456789abcdef",
        "web-aaa",
    ]
    assert ids(client.get("/api/conversations", q="oleskelulupa")) == []
    assert ids(client.get("/api/conversations", q="oleskeluluvan")) == ["tg-bbb"]
    # Personal data is not searchable: it is masked before the index sees it.
    assert ids(client.get("/api/conversations", q="maija.m@example.fi")) == []
    assert ids(client.get("/api/conversations", q="040 123 4567")) == []
    assert ids(client.get("/api/conversations", q="<EMAIL>")) == ["web-aaa"]


def test_list_filters(console):
    client = console.logged_in()
    get = client.get
    assert ids(get("/api/conversations", channel="telegram")) == ["tg-bbb"]
    assert ids(get("/api/conversations", language="fi")) == ["tg-bbb"]
    assert ids(get("/api/conversations", intent="population_registration")) == ["web-ccc"]
    assert ids(get("/api/conversations", fallback="1")) == ["web-ccc"]
    # web-ccc's feedback is positive ("great answer"), tg-bbb's negative ("väärä vastaus").
    assert ids(get("/api/conversations", negative="1")) == ["tg-bbb"]
    assert ids(get("/api/conversations", source="tests")) == ["console-test-0123456789abcdef"]
    assert "console-test-0123456789abcdef" not in ids(get("/api/conversations", source="users"))
    today = TODAY
    two_days_ago = (today - dt.timedelta(days=2)).isoformat()
    assert ids(get("/api/conversations", date_to=two_days_ago)) == ["web-aaa"]
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    assert ids(get("/api/conversations", date_from=yesterday, date_to=yesterday)) == ["tg-bbb"]
    assert get("/api/conversations", date_from="31.1.2026").status == 400
    assert get("/api/conversations", source="everyone").status == 400


def test_list_pages(console):
    client = console.logged_in()
    page = client.get("/api/conversations", limit=2, offset=2).json()
    assert page["total"] == 5 and names(page) == ["web-ccc", "tg-bbb"]


def test_list_sees_new_and_deleted_conversations(console):
    client = console.logged_in()
    assert client.get("/api/conversations").json()["total"] == 5
    write_store(console.tracker, [Conversation("web-new", NOON_TODAY + 60).user("hi", "greet")])
    assert ids(client.get("/api/conversations"))[0] == "web-new"
    TrackerStore(str(console.tracker)).delete(["web-new", "web-aaa"])
    assert ids(client.get("/api/conversations")) == [
        "console-test-0123456789abcdef",
        "web-ddd",
        "web-ccc",
        "tg-bbb",
    ]
    assert client.get(f"/api/conversations/{pseudonym('web-aaa')}").status == 404


# ----------------------------------------------------------------------------- transcripts


def test_transcript_shows_what_the_bot_did_and_masks_personal_data(console):
    data = console.logged_in().get(f"/api/conversations/{SENDER}").json()
    turns = [t for t in data["turns"] if t["user"]]
    first, second, third = turns
    assert first["user"]["text"] == "qwzx blorp <ID_CODE>"
    assert first["user"]["intent"] == "nlu_fallback" and first["user"]["confidence"] == 0.25
    assert first["fallback"] is True
    assert first["answer"] == {"type": "no_answer", "reason": "low_confidence", "language": "en"}
    assert second["user"]["entities"][0]["value"] == "espoo"
    assert second["slots"]["municipality"] == "espoo" and second["slots_set"]["language"] == "en"
    assert [a["name"] for a in second["actions"]] == ["action_answer_question"]
    assert [o["id"] for o in second["answer"]["organisations"]] == ["dvv", "vero"]
    assert [s["score"] for s in second["answer"]["services"]] == [0.83, 0.73]
    assert third["feedback"] == "positive"
    assert data["summary"]["fallback"] is True
    assert "131052-308T" not in json.dumps(data)


def test_transcript_masks_email_and_phone_everywhere(console):
    client = console.logged_in()
    aaa = json.dumps(client.get(f"/api/conversations/{pseudonym('web-aaa')}").json())
    assert "maija.m@example.fi" not in aaa and "<EMAIL>" in aaa
    bbb = client.get(f"/api/conversations/{pseudonym('tg-bbb')}").json()
    assert bbb["turns"][1]["user"]["text"] == "Miten saan oleskeluluvan? Soita <PHONE>"
    assert bbb["turns"][2]["feedback"] == "negative"


def test_transcript_of_an_unknown_conversation_is_404(console):
    assert console.logged_in().get(f"/api/conversations/{pseudonym('nobody')}").status == 404


def test_user_html_is_data_not_markup(console):
    data = console.logged_in().get(
        f"/api/conversations/{pseudonym('console-test-0123456789abcdef')}"
    )
    assert data.headers["Content-Type"].startswith("application/json")
    assert data.json()["turns"][1]["user"]["text"].startswith("<img src=x onerror=alert(1)>")


# ----------------------------------------------------------------------------- corrections


def test_corrections_are_validated_saved_and_cleared(console):
    client = console.logged_in()
    path = f"/api/conversations/{SENDER}/corrections"
    assert client.post(path, {"turn": 0, "intent": "no_such_intent"}).status == 400
    assert client.post(path, {"turn": 0, "organisation": "no_such_org"}).status == 400
    assert client.post(path, {"turn": 3, "intent": "greet"}).status == 404  # 3 user turns
    assert client.post(path, {"intent": "greet"}).status == 400
    saved = client.post(path, {"turn": 0, "intent": "tax_registration", "organisation": "vero"})
    assert saved.status == 200
    assert saved.json()["correction"]["author"] == "staff.one"
    turns = [t for t in client.get(f"/api/conversations/{SENDER}").json()["turns"] if t["user"]]
    assert turns[0]["correction"]["intent"] == "tax_registration"
    assert turns[0]["correction"]["organisation"] == "vero"
    assert turns[1]["correction"] is None
    assert client.post(path, {"turn": 0}).status == 200  # neither: the correction is removed
    turns = [t for t in client.get(f"/api/conversations/{SENDER}").json()["turns"] if t["user"]]
    assert turns[0]["correction"] is None


# ----------------------------------------------------------------------------- export


def test_export_writes_a_story_with_corrections_nlu_examples_and_questions(console):
    client = console.logged_in()
    correction = {"turn": 0, "intent": "tax_registration", "organisation": "vero"}
    client.post(f"/api/conversations/{SENDER}/corrections", correction)
    response = client.post(f"/api/conversations/{SENDER}/export")
    assert response.status == 200, response.body
    data = response.json()
    story_path = next(console.settings.stories_dir.glob("*.yml"))
    assert str(story_path) == data["paths"]["story"]
    assert story_path.name == f"console_{SENDER.replace('-', '_')}.yml"
    story = yaml.safe_load(story_path.read_text())
    steps = story["stories"][0]["steps"]
    users = [s for s in steps if "user" in s]
    assert users[0] == {"user": "qwzx blorp <ID_CODE>", "intent": "tax_registration"}
    espoo = '[Espoo]{"entity": "municipality", "value": "espoo"}'
    assert users[1] == {
        "user": f"I live in {espoo} and need to register",
        "intent": "population_registration",
    }
    assert {"action": "action_answer_question"} in steps
    assert {"slot_was_set": [{"municipality": "espoo"}]} in steps
    assert "corrected by staff.one, the bot predicted nlu_fallback" in data["story"]
    nlu = yaml.safe_load(next(console.settings.nlu_dir.glob("*.yml")).read_text())
    assert nlu["nlu"] == [{"intent": "tax_registration", "examples": "- qwzx blorp <ID_CODE>\n"}]
    questions = load_questions(next(console.settings.questions_dir.glob("*.yml")))
    assert [(q.q, q.orgs, q.lang) for q in questions] == [("qwzx blorp <ID_CODE>", ("vero",), "en")]
    assert "131052-308T" not in data["story"] + data["nlu"] + data["questions"]

    # Without corrections a re-export keeps the story and removes the stale NLU/questions files.
    client.post(f"/api/conversations/{SENDER}/corrections", {"turn": 0})
    again = client.post(f"/api/conversations/{SENDER}/export").json()
    assert set(again["paths"]) == {"story"}
    assert list(console.settings.nlu_dir.glob("*.yml")) == []
    assert "intent: nlu_fallback" in again["story"]


def test_export_does_not_duplicate_or_contradict_training_data(console):
    """A corrected text that already is a training example is not added again."""
    write_store(
        console.tracker,
        [
            Conversation("web-eee", NOON_TODAY - DAY)
            .user("How do I get a tax card?", "greet", 0.4)
            .no_answer()
        ],
    )
    client = console.logged_in()
    client.post(
        f"/api/conversations/{pseudonym('web-eee')}/corrections",
        {"turn": 0, "intent": "job_search"},
    )
    data = client.post(f"/api/conversations/{pseudonym('web-eee')}/export").json()
    assert data["nlu"] is None
    assert any("training example of tax_registration" in note for note in data["notes"])


def test_export_of_an_unknown_conversation_is_404(console):
    assert (
        console.logged_in().post(f"/api/conversations/{pseudonym('nobody')}/export").status == 404
    )


# ----------------------------------------------------------------------------- summary


def test_stats(console):
    data = console.logged_in().get("/api/stats", source="users").json()
    totals = data["totals"]
    assert totals == {
        "conversations": 4,
        "messages": 8,
        "fallback_messages": 1,
        "fallback_rate": 0.125,
        "negative_feedback": 1,
    }
    per_day = data["per_day"]
    assert len(per_day) == 3 and sum(d["conversations"] for d in per_day) == 4
    assert [d["day"] for d in per_day] == sorted(d["day"] for d in per_day)
    assert {(u["text"], u["reason"]) for u in data["unanswered"]} == {
        ("qwzx blorp <ID_CODE>", "low_confidence"),
        ("tell me a joke", "out_of_scope"),
    }
    assert data["organisations"] == [
        {"id": "dvv", "name": "Digital and Population Data Services Agency", "count": 1},
        {"id": "migri", "name": "Finnish Immigration Service", "count": 1},
        {"id": "vero", "name": "Finnish Tax Administration", "count": 1},
    ]
    # "tell me a joke" got a reply that carries no language.
    assert data["languages"] == [
        {"language": "en", "count": 2},
        {"language": "fi", "count": 1},
        {"language": "unknown", "count": 1},
    ]
    everything = console.logged_in().get("/api/stats").json()["totals"]
    assert everything["conversations"] == 5


def test_stats_fill_days_without_conversations(console):
    write_store(
        console.tracker, [Conversation("web-old", NOON_TODAY - 6 * DAY).user("hi", "greet")]
    )
    last = (TODAY - dt.timedelta(days=2)).isoformat()
    data = console.logged_in().get("/api/stats", date_to=last).json()
    assert data["totals"]["conversations"] == 2  # web-old and web-aaa
    days = {d["day"]: d for d in data["per_day"]}
    assert len(days) == 5  # six days ago to two days ago, the three between with zeros
    first = (TODAY - dt.timedelta(days=6)).isoformat()
    assert days[first]["conversations"] == 1 and days[last]["conversations"] == 1
    middle = [d for day, d in days.items() if day not in {first, last}]
    assert [d["conversations"] for d in middle] == [0, 0, 0]
    assert all(d["fallback_rate"] is None for d in middle)


def test_the_retention_setting_purges_while_the_console_runs(console, tmp_path):
    """CONSOLE_RETENTION_DAYS: the running console deletes idle conversations by itself."""
    write_store(
        console.tracker, [Conversation("web-ancient", NOON_TODAY - 400 * DAY).user("hi", "greet")]
    )
    settings = console.settings.model_copy(update={"retention_days": 365})
    app = make_app(settings, Settings(corpus_dir=MINI_CORPUS))
    with serve(app) as url:
        client = Client(url)
        assert client.login().status == 303
        deadline = time.monotonic() + 20
        while "web-ancient" in ids(client.get("/api/conversations", limit=200)):
            assert time.monotonic() < deadline, "retention did not run"
            time.sleep(0.1)
        assert client.get("/api/conversations").json()["total"] == 5


def test_a_second_login_page_load_keeps_the_form_token(console):
    """Browsers fetch /favicon.ico, which redirects to /login: the form on screen stays valid."""
    client = console.client()
    first = client.get("/login").text.split('name="csrf" value="')[1].split('"')[0]
    assert client.get("/favicon.ico").status == 303
    second = client.get("/login").text.split('name="csrf" value="')[1].split('"')[0]
    assert first == second
    assert client.login().status == 303


def test_the_console_names_conversations_by_keyed_hash_only(console):
    """Sender ids (a Telegram user's numeric id) never leave the console: not in the list, the
    transcript, the search or the export; a URL with a raw sender id is refused."""
    write_store(
        console.tracker,
        [Conversation("telegram-987654321", NOON_TODAY).user("tax card?", "tax_registration")],
    )
    client = console.logged_in()
    listed = client.get("/api/conversations", limit=200)
    hashed = pseudonym("telegram-987654321")
    assert hashed in [c["conversation"] for c in listed.json()["items"]]
    assert client.get(f"/api/conversations/{hashed}").json()["conversation"] == hashed
    exported = client.post(f"/api/conversations/{hashed}/export")
    assert exported.json()["paths"]["story"].endswith(f"console_{hashed.replace('-', '_')}.yml")
    for response in (listed, client.get(f"/api/conversations/{hashed}"), exported):
        assert "987654321" not in response.text and "tg-bbb" not in response.text
    assert ids(client.get("/api/conversations", q="987654321")) == []
    assert ids(client.get("/api/conversations", q=hashed)) == ["telegram-987654321"]
    assert client.get("/api/conversations/telegram-987654321").status == 400
    assert client.post("/api/conversations/tg-bbb/export").status == 400
