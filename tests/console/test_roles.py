"""Roles: every route names the least role it needs, and the middleware enforces it.

A viewer reads; an annotator also annotates, tags, corrects and exports; an admin also manages
accounts' roles. The route-table test fails when someone adds a route without a role.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from console.app import make_app
from console.auth import hash_password
from console.roles import Role, RoleBook, parse_roles
from console.routes import ROUTES, Access
from opastin.config import Settings
from tests.aiohttp_server import serve
from tests.console.conftest import (
    MINI_CORPUS,
    NOON_TODAY,
    PASSWORD,
    USER,
    Clock,
    Running,
    console_settings,
    pseudonym,
    sample_conversations,
    write_store,
)

VIEWER, ANNOTATOR, NEWCOMER = "vera.viewer", "anna.annotator", "nina.new"
AAA = pseudonym("web-aaa")
ANNOTATE = ("/api/inbox/annotations", {"messages": [{"conversation": AAA, "turn": 1}],
                                       "intent": "pension"})  # fmt: skip
ANNOTATOR_POSTS = [
    ANNOTATE,
    (
        "/api/inbox/annotations/undo",
        {"messages": [{"conversation": AAA, "turn": 1}]},
    ),
    ("/api/inbox/export", {}),
    ("/api/tags", {"tag": "needs corpus update", "conversations": [AAA]}),
    ("/api/tags/remove", {"tag": "needs corpus update", "conversations": [AAA]}),
    (f"/api/conversations/{AAA}/corrections", {"turn": 0, "intent": "greet"}),
    (f"/api/conversations/{AAA}/export", {}),
    (
        "/api/suggestions",
        {"service": "vero.tax_card", "kind": "alias", "language": "en", "text": "verokortti"},
    ),
]
ADMIN_ONLY = [
    ("/api/suggestions/1/accept", {}),
    ("/api/suggestions/1/reject", {}),
    ("/api/guest-links", {"label": "pilot", "hours": 24}),
    ("/api/guest-links/1/revoke", {}),
]
VIEWER_GETS = ["/", "/api/meta", "/api/inbox", "/api/conversations", "/api/stats",
               f"/api/conversations/{AAA}", "/api/suggestions",
               "/api/corpus/services/vero.tax_card"]  # fmt: skip


@pytest.fixture
def staffed(tmp_path: Path) -> Iterator[Running]:
    """The console with an admin (USER), an annotator, a viewer and an account given no role."""
    tracker = tmp_path / "tracker.db"
    write_store(tracker, sample_conversations(NOON_TODAY))
    stored = hash_password(PASSWORD)
    accounts = " ".join(f"{name}:{stored}" for name in (USER, VIEWER, ANNOTATOR, NEWCOMER))
    roles = f"{USER}:admin, {ANNOTATOR}:annotator, {VIEWER}:viewer"
    settings = console_settings(tmp_path, tracker, accounts=accounts, roles=roles)
    app = make_app(settings, Settings(corpus_dir=MINI_CORPUS), clock=Clock())
    with serve(app) as url:
        yield Running(url, Clock(), settings, tracker, app)


def login(running: Running, name: str):
    client = running.client()
    assert client.login(name, PASSWORD).status == 303
    return client


def test_every_route_declares_its_role():
    """A route must name PUBLIC or a role; the app registers exactly the table's routes."""
    for route in ROUTES:
        assert isinstance(route.access, Access), route.path
        assert route.access is Access.PUBLIC or isinstance(route.access.role, Role), route.path
    public = {(r.method, r.path) for r in ROUTES if r.access is Access.PUBLIC}
    assert public == {("GET", "/login"), ("POST", "/login"), ("GET", "/login.css"),
                      ("GET", "/guest/{token}"), ("POST", "/guest/{token}/message"),
                      ("GET", "/guest.js")}  # fmt: skip


def test_the_app_has_no_route_outside_the_table(staffed):
    table = {(r.method, r.path) for r in ROUTES}
    for route in staffed.app.router.routes():
        if route.method != "HEAD":
            assert (route.method, route.resource.canonical) in table


def test_state_changes_need_more_than_a_viewer():
    """Only reading and trying the bot are open to viewers (logout ends one's own session)."""
    for route in ROUTES:
        # A guest link's token is its credential (console.guests); guests can only chat.
        open_posts = {"/login", "/logout", "/api/try/new", "/api/try/message",
                      "/guest/{token}/message"}  # fmt: skip
        if route.method == "POST" and route.path not in open_posts:
            assert route.access in {Access.ANNOTATOR, Access.ADMIN}, route.path


def test_a_viewer_reads_but_cannot_annotate_tag_correct_or_export(staffed):
    client = login(staffed, VIEWER)
    for path in VIEWER_GETS:
        assert client.get(path).status == 200, path
    assert client.get("/api/meta").json()["role"] == "viewer"
    for path, body in ANNOTATOR_POSTS:
        response = client.post(path, body)
        assert response.status == 403, path
        assert response.json() == {"error": "this needs the annotator role"}
    assert client.get("/api/accounts").status == 403
    assert not (staffed.settings.annotated_questions).exists()  # the export did not run
    assert not staffed.settings.suggestions_dir.exists()  # nor the suggestion


def test_an_account_without_a_role_is_a_viewer(staffed):
    client = login(staffed, NEWCOMER)
    assert client.get("/api/meta").json()["role"] == "viewer"
    assert client.post(*ANNOTATE).status == 403


def test_an_annotator_annotates_but_does_not_manage_accounts(staffed):
    client = login(staffed, ANNOTATOR)
    for path, body in ANNOTATOR_POSTS:
        assert client.post(path, body).status == 200, path
    for path, body in ADMIN_ONLY:
        assert client.post(path, body).status == 403, path
    assert client.get("/api/guest-links").status == 403
    assert client.get("/api/suggestions").json()["items"][0]["status"] == "pending"
    assert client.get("/api/accounts").status == 403
    assert client.post(f"/api/accounts/{ANNOTATOR}/role", {"role": "admin"}).status == 403


def test_an_admin_changes_roles_and_the_change_applies_at_once(staffed):
    viewer = login(staffed, VIEWER)
    assert viewer.post(*ANNOTATE).status == 403
    admin = login(staffed, USER)
    listed = admin.get("/api/accounts").json()
    assert {a["name"]: a["role"] for a in listed["accounts"]} == {
        USER: "admin", ANNOTATOR: "annotator", VIEWER: "viewer", NEWCOMER: "viewer"
    }  # fmt: skip
    assert admin.post(f"/api/accounts/{VIEWER}/role", {"role": "annotator"}).status == 200
    assert viewer.post(*ANNOTATE).status == 200  # same session, new role
    accounts = {a["name"]: a for a in admin.get("/api/accounts").json()["accounts"]}
    assert accounts[VIEWER]["set_by"] == USER
    assert admin.post(f"/api/accounts/{VIEWER}/role", {"role": "boss"}).status == 400
    assert admin.post("/api/accounts/nobody/role", {"role": "viewer"}).status == 404
    demote = admin.post(f"/api/accounts/{USER}/role", {"role": "viewer"})
    assert demote.status == 400 and "yourself" in demote.json()["error"]


def test_role_book_order_store_then_inline_then_default(tmp_path):
    book = RoleBook(tmp_path / "c.db", "a:admin b:annotator", default="viewer")
    assert (book.role_of("a"), book.role_of("b"), book.role_of("c")) == (
        Role.ADMIN, Role.ANNOTATOR, Role.VIEWER
    )  # fmt: skip
    book.set_role("a", Role.VIEWER, "b")
    assert book.role_of("a") is Role.VIEWER
    assert Role.ADMIN > Role.ANNOTATOR > Role.VIEWER


def test_bad_role_settings_stop_the_start(tmp_path):
    with pytest.raises(ValueError, match="expected one of viewer, annotator, admin"):
        parse_roles("maija:boss")
    with pytest.raises(ValueError, match="name:role"):
        parse_roles("maija")
    with pytest.raises(ValidationError):
        console_settings(tmp_path, tmp_path / "t.db", roles="maija:root")
    with pytest.raises(ValidationError):
        console_settings(tmp_path, tmp_path / "t.db", default_role="superuser")
