"""Knowledge suggestions: staff propose a question, an alias or a text fix for a service; the
console checks it with the corpus validator, writes a patch, and an admin accepts or rejects.

The console runs over a copy of tests/data/mini_corpus (conftest.corpus_copy), so accepting
changes that copy; the corpus files are read back with the knowledge package's own loader.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from console.context import CONSOLE
from console.corpus_edit import Change, InvalidChange, apply_change, changed_file
from console.state import ConsoleState
from console.suggestions import Conflict, Source, Suggestions
from knowledge.loader import load_corpus
from tests.console.conftest import MINI_CORPUS, corpus_copy, pseudonym

AAA = pseudonym("web-aaa")
QUESTION = {"service": "vero.tax_card", "kind": "question", "language": "en",
            "text": "where do I get a tax card for my new job"}  # fmt: skip
VERO = MINI_CORPUS / "vero.yaml"


def corpus_of(running) -> Path:
    return running.app[CONSOLE].project.corpus_dir


def questions(corpus: Path, service: str, language: str) -> list[str]:
    return load_corpus(corpus).services[service].questions.get(language, [])


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    old, new = before.splitlines(), after.splitlines()
    return [line for line in old if line not in new], [line for line in new if line not in old]


def test_a_question_is_added_to_the_service_and_nothing_else_changes():
    before = VERO.read_text(encoding="utf-8")
    after, old = apply_change(before, Change("vero.tax_card", "question", "en", "verokortti?"))
    assert old is None
    assert changed_lines(before, after) == (
        ["      en: [tax card, how do I get a tax card]"],
        ['      en: [tax card, how do I get a tax card, "verokortti?"]'],
    )


def test_a_text_fix_replaces_one_text_and_keeps_the_old_one():
    before = VERO.read_text(encoding="utf-8")
    change = Change("vero.tax_card", "text", "en", "Apply online in MyTax.", "how_to")
    after, old = apply_change(before, change)
    assert old == "Apply online or at the Tax Administration desk."
    removed, added = changed_lines(before, after)
    assert len(removed) == len(added) == 1 and '"Apply online in MyTax."' in added[0]
    assert "fi: Hae verkossa" in added[0]  # the other languages of the line stay as they were


def test_a_new_language_and_an_alias_in_a_service_that_had_no_questions(tmp_path):
    text = (
        "id: x\nservices:\n  - id: x.a\n    questions:\n      en:\n        - one\n"
        "    sources: []\n  - id: x.b\n    title: {en: B}\n    sources: []\n"
    )
    after, _ = apply_change(text, Change("x.a", "question", "fi", "yksi"))
    assert yaml.safe_load(after)["services"][0]["questions"] == {"en": ["one"], "fi": ["yksi"]}
    after, _ = apply_change(text, Change("x.b", "alias", "en", "bee"))
    assert yaml.safe_load(after)["services"][1]["questions"] == {"en": ["bee"]}


def test_a_change_that_does_not_fit_says_why():
    before = VERO.read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="already has this question"):
        apply_change(before, Change("vero.tax_card", "question", "en", "Tax card?"))
    with pytest.raises(ValueError, match="same as the current one"):
        apply_change(before, Change("vero.tax_card", "text", "en", "Tax card", "title"))
    with pytest.raises(ValueError, match=r"knowledge/translations/ru\.yaml"):
        apply_change(before, Change("vero.tax_card", "text", "ru", "Налог", "title"))
    with pytest.raises(LookupError, match="no service"):
        apply_change(before, Change("vero.no_such", "question", "en", "x"))


def test_the_corpus_validator_judges_the_result_with_its_own_field_names(tmp_path):
    corpus = corpus_copy(tmp_path)
    with pytest.raises(InvalidChange) as empty:
        changed_file(corpus, Change("vero.tax_card", "text", "fi", " ", "description"))
    [problem] = empty.value.problems
    assert (problem.file, problem.field) == (
        corpus / "vero.yaml",
        "services[vero.tax_card].description",
    )
    assert problem.reason == "empty text for language 'fi'"
    lines = (corpus / "vero.yaml").read_text(encoding="utf-8").splitlines()
    assert lines[problem.line - 1].startswith("    description: {en: Everyone working")
    with pytest.raises(InvalidChange, match="'eng' is not a two-letter ISO 639-1 language code"):
        changed_file(corpus, Change("vero.tax_card", "alias", "eng", "tax"))


@pytest.fixture
def book(tmp_path: Path) -> Suggestions:
    """Suggestions over a copy of the mini corpus, without the web server."""
    return Suggestions(tmp_path / "console.db", tmp_path / "suggestions", corpus_copy(tmp_path))


def test_suggested_from_the_inbox_then_accepted_by_an_admin(console):
    """The whole path over HTTP: the form's texts, a suggestion from an inbox message (a patch,
    the corpus untouched), the list, the admin's accept (the corpus changed as the patch says)."""
    client = console.logged_in()  # staff.one, an admin
    corpus = corpus_of(console)
    form = client.get("/api/corpus/services/vero.tax_card").json()
    assert (form["texts"]["title"]["en"], form["questions"]["fi"]) == ("Tax card", ["verokortti"])
    assert client.get("/api/corpus/services/vero.nope").status == 404
    before = (corpus / "vero.yaml").read_text(encoding="utf-8")
    body = {**QUESTION, "reason": "people ask it this way",
            "source": {"conversation": AAA, "turn": 1}}  # fmt: skip
    response = client.post("/api/suggestions", body)
    assert response.status == 200, response.text
    item = response.json()
    assert (item["status"], item["author"], item["conversation"], item["turn"]) == (
        "pending", "staff.one", AAA, 1
    )  # fmt: skip
    assert item["created"] > 0 and item["reviewer"] is None
    assert (corpus / "vero.yaml").read_text(encoding="utf-8") == before  # never a silent edit
    patch = (console.settings.suggestions_dir / "0001.patch").read_text(encoding="utf-8")
    assert patch == item["patch"] and item["patch_file"].endswith("suggestions/0001.patch")
    assert 'From: "staff.one" <staff.one@opastin-console.invalid>' in patch
    assert f"conversation {AAA}, turn 1" in patch
    assert (
        '+      en: [tax card, how do I get a tax card, "where do I get a tax card for my ' in patch
    )
    listed = client.get("/api/suggestions", status="pending").json()
    assert [i["id"] for i in listed["items"]] == [1]
    assert listed["counts"] == {"pending": 1, "accepted": 0, "rejected": 0}

    accepted = client.post("/api/suggestions/1/accept", {})
    assert accepted.status == 200, accepted.text
    item = accepted.json()
    assert (item["status"], item["reviewer"]) == ("accepted", "staff.one") and item["decided"]
    assert questions(corpus, "vero.tax_card", "en")[-1] == QUESTION["text"]
    again = client.post("/api/suggestions/1/accept", {})
    assert again.status == 409 and "was accepted by staff.one" in again.json()["error"]
    assert client.get("/api/suggestions", status="pending").json()["items"] == []
    fix = {"service": "vero.tax_card", "kind": "text", "field": "title", "language": "en",
           "text": "Tax card for work", "reason": "https://www.vero.fi/en/"}  # fmt: skip
    client.post("/api/suggestions", fix)
    client.post("/api/suggestions/2/accept", {})
    titles = {s["id"]: s["title"] for s in client.get("/api/meta").json()["services"]}
    assert titles["vero.tax_card"] == "Tax card for work"  # the menus know the new title


BAD = [
    ({**QUESTION, "kind": "essay"}, 400, "kind: expected one of question, alias, text"),
    ({**QUESTION, "service": "vero.nothing"}, 404, "no service 'vero.nothing'"),
    ({**QUESTION, "service": "../etc.passwd"}, 404, "no service"),
    ({**QUESTION, "kind": "text", "field": "url"}, 400, "field: expected one of title"),
    ({**QUESTION, "kind": "text", "field": "title"}, 400, "a text fix needs its source"),
    ({**QUESTION, "source": {"conversation": "c-0000000000000000", "turn": 0}}, 404,
     "no conversation"),
    ({**QUESTION, "source": {"conversation": AAA, "turn": 9}}, 404, "no message 9"),
    ({**QUESTION, "text": "x" * 301}, 400, "at most 300 characters"),
    ({**QUESTION, "text": "Tax card?"}, 400, "already has this question"),
    ({**QUESTION, "status": "accepted", "kind": None}, 400, "kind: expected"),
]  # fmt: skip


def test_bad_suggestions_get_a_clear_error_and_the_validators_problems(console):
    client = console.logged_in()
    for body, status, message in BAD:
        response = client.post("/api/suggestions", body)
        assert response.status == status and message in response.json()["error"], response.text
    response = client.post("/api/suggestions", {**QUESTION, "text": "   "})
    assert response.status == 400
    [problem] = response.json()["problems"]
    assert problem["field"] == "services[vero.tax_card].questions"
    assert problem["reason"] == "empty question in language 'en'"
    assert problem["file"].endswith("corpus/vero.yaml") and problem["line"] > 0
    assert client.get("/api/suggestions").json()["items"] == []
    assert not console.settings.suggestions_dir.exists()
    assert client.get("/api/suggestions", status="maybe").status == 400


def test_a_rejected_suggestion_leaves_the_corpus_alone(book):
    before = (book.corpus_dir / "vero.yaml").read_text(encoding="utf-8")
    change = Change("vero.tax_card", "alias", "en", "verokortti")
    book.propose(change, "", "anna", Source("c-0123456789abcdef", 1))
    rejected = book.reject(1, "maija", "a Finnish word: already in fi")
    assert (rejected["status"], rejected["reviewer"], rejected["note"]) == (
        "rejected", "maija", "a Finnish word: already in fi"
    )  # fmt: skip
    assert (book.corpus_dir / "vero.yaml").read_text(encoding="utf-8") == before
    with pytest.raises(Conflict, match="was rejected by maija"):
        book.accept(1, "maija")
    with pytest.raises(LookupError):
        book.reject(7, "maija", "")
    assert book.counts() == {"pending": 0, "accepted": 0, "rejected": 1}


def test_a_text_fix_whose_text_changed_meanwhile_is_not_applied(book):
    fix = Change("vero.tax_card", "text", "en", "Apply in MyTax.", "how_to")
    book.propose(fix, "https://www.vero.fi/en/ says so", "anna")
    book.propose(Change(fix.service_id, "text", "en", "Apply at the desk.", "how_to"), "x", "anna")
    assert book.accept(1, "maija")["status"] == "accepted"
    with pytest.raises(Conflict, match="changed since the suggestion"):
        book.accept(2, "maija")
    assert book.get(2)["status"] == "pending"
    assert load_corpus(book.corpus_dir).services["vero.tax_card"].how_to["en"] == "Apply in MyTax."


def test_the_same_question_accepted_twice_is_a_conflict_not_a_duplicate(book):
    book.propose(Change("dvv.registration", "alias", "fi", "hetu-kortti"), "", "anna")
    book.propose(Change("dvv.registration", "alias", "fi", "hetu-kortti"), "", "pekka")
    book.accept(1, "maija")
    with pytest.raises(Conflict, match="already has this question"):
        book.accept(2, "maija")
    assert questions(book.corpus_dir, "dvv.registration", "fi").count("hetu-kortti") == 1


@pytest.mark.slow
def test_the_patch_commits_with_the_staff_member_as_author(book, tmp_path):
    """`git am` of the patch file in a repository with the corpus: the suggester is the author."""
    question = Change("vero.tax_card", "question", "en", QUESTION["text"])
    book.propose(question, "asked in the inbox", "anna.annotator")
    repo = tmp_path / "repo"
    shutil.copytree(book.corpus_dir, repo / "corpus")
    git = ["git", "-C", str(repo), "-c", "user.name=dev", "-c", "user.email=dev@example.org"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "add", "corpus"], check=True)
    subprocess.run([*git, "commit", "-qm", "corpus"], check=True)
    subprocess.run([*git, "am", "-q", str(book.patch_file(1))], check=True)
    log = subprocess.run([*git, "log", "-1", "--format=%an|%s|%b"], check=True,
                         capture_output=True, text=True).stdout.strip()  # fmt: skip
    assert log == "anna.annotator|Corpus: add question (en) of vero.tax_card|asked in the inbox"
    assert questions(repo / "corpus", "vero.tax_card", "en")[-1] == QUESTION["text"]


def test_forgetting_a_conversation_keeps_the_suggestions_made_from_it(book):
    """A suggestion is staff's text, not conversation data: retention and `forget` leave it."""
    state = ConsoleState(book.path)
    source = Source(pseudonym("web-aaa"), 1)
    book.propose(Change("vero.tax_card", "alias", "en", "tax paper"), "", "anna", source)
    state.forget(["web-aaa"])
    assert book.get(1)["conversation"] == source.conversation
    assert book.counts()["pending"] == 1
