"""The command line for roles and annotations, and retention taking annotations and tags along."""

from __future__ import annotations

import yaml

from console.annotations import Annotations, Label, Target
from console.retention import purge
from console.roles import Role, RoleBook
from console.state import ConsoleState
from console.store import TrackerStore
from console.tags import Tags
from tests.console.conftest import DAY, NOON_TODAY, Conversation, write_store
from tests.console.test_cli import run


def test_set_role_and_add_user_with_a_role(tmp_path):
    result = run(tmp_path, "set-role", "maija", "annotator")
    assert result.returncode == 0, result.stderr
    assert RoleBook(tmp_path / "console.db").role_of("maija") is Role.ANNOTATOR
    bad = run(tmp_path, "set-role", "maija", "root")
    assert bad.returncode != 0 and "expected one of viewer, annotator, admin" in bad.stderr
    added = run(tmp_path, "add-user", "pekka", "--role", "admin", stdin="a long password\n")
    assert added.returncode == 0, added.stderr
    assert RoleBook(tmp_path / "console.db").role_of("pekka") is Role.ADMIN


def test_export_annotations_from_the_command_line(tmp_path):
    state = ConsoleState(tmp_path / "console.db")
    annotations = Annotations(tmp_path / "console.db", state)
    target = Target("web-1", 0, "where do I pay taxes on my zorblax", "en")
    annotations.annotate([target], Label("tax_registration", "vero"), "maija")
    extra = {
        "CONSOLE_ANNOTATED_NLU_DIR": str(tmp_path / "annotated"),
        "CONSOLE_ANNOTATED_QUESTIONS": str(tmp_path / "annotated.yaml"),
    }
    result = run(tmp_path, "export-annotations", extra=extra)
    assert result.returncode == 0, result.stderr
    assert "1 NLU example(s), 1 labelled question(s)" in result.stdout
    nlu = yaml.safe_load((tmp_path / "annotated" / "en.yml").read_text())
    assert nlu["nlu"] == [
        {"intent": "tax_registration", "examples": "- where do I pay taxes on my zorblax\n"}
    ]
    questions = yaml.safe_load((tmp_path / "annotated.yaml").read_text())
    assert questions == [
        {"q": "where do I pay taxes on my zorblax", "lang": "en", "orgs": ["vero"],
         "tags": ["annotated"]}
    ]  # fmt: skip


def test_retention_takes_annotations_and_tags_along(tmp_path):
    tracker = tmp_path / "tracker.db"
    old = Conversation("web-old", NOON_TODAY - 40 * DAY).user("old question", "pension")
    new = Conversation("web-new", NOON_TODAY).user("new question", "pension")
    write_store(tracker, [old, new])
    db = tmp_path / "console.db"
    state = ConsoleState(db)
    annotations, tags = Annotations(db, state), Tags(db)
    for sender in ("web-old", "web-new"):
        annotations.annotate([Target(sender, 0, "q", "en")], Label("business"), "maija")
        tags.add([(sender, 0), (sender, -1)], "needs corpus update", "maija")
    purge(TrackerStore(str(tracker)), state, 30, now=NOON_TODAY)
    left = {(a["sender_id"]) for a in annotations.all_current()}
    assert left == {"web-new"}
    assert set(tags.of(["web-old", "web-new"])) == {("web-new", 0), ("web-new", -1)}
    assert set(state.corrections("web-old")) == set() and set(state.corrections("web-new")) == {0}
