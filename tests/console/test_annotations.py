"""Annotating inbox messages (one or many), undo, tags, and the export to NLU examples and
labelled questions that `make eval` and tests/eval read."""

from __future__ import annotations

import yaml

from tests.console.conftest import NOON_TODAY, Conversation, pseudonym, sender_of, write_store
from tools.eval.retrieval import DEV_SET, load_questions

TAX = {"conversation": pseudonym("web-aaa"), "turn": 1}
FALLBACK = {"conversation": pseudonym("web-ccc"), "turn": 0}
FINNISH = {"conversation": pseudonym("tg-bbb"), "turn": 0}
JOKE = {"conversation": pseudonym("web-ddd"), "turn": 0}


def annotation_of(client, ref):
    items = client.get("/api/inbox", source="all", limit=200).json()["items"]
    return next(
        i
        for i in items
        if (sender_of(i["conversation"]), i["turn"])
        == (sender_of(ref["conversation"]), ref["turn"])
    )


def test_annotate_one_message_with_who_and_when(console):
    client = console.logged_in()
    body = {"messages": [FALLBACK], "intent": "tax_registration", "service": "vero.tax_card"}
    response = client.post("/api/inbox/annotations", body)
    assert response.status == 200, response.text
    item = annotation_of(client, FALLBACK)["annotation"]
    assert (item["intent"], item["organisation"], item["service"]) == (
        "tax_registration",
        "vero",  # the service's organisation
        "vero.tax_card",
    )
    assert item["author"] == "staff.one" and item["created"] > 0
    assert item["text"] == "qwzx blorp <ID_CODE>"  # masked, as shown
    # the transcript shows the same correction
    turns = client.get(f"/api/conversations/{FALLBACK['conversation']}").json()["turns"]
    correction = next(t for t in turns if t["index"] == 0)["correction"]
    assert (correction["intent"], correction["organisation"]) == ("tax_registration", "vero")


def test_bulk_annotation_and_undo_restores_the_previous_label(console):
    client = console.logged_in()
    both = [TAX, FINNISH]
    assert (
        client.post("/api/inbox/annotations", {"messages": both, "organisation": "dvv"}).json()[
            "annotated"
        ]
        == 2
    )
    client.post("/api/inbox/annotations", {"messages": [TAX], "organisation": "migri"})
    assert annotation_of(client, TAX)["annotation"]["organisation"] == "migri"
    undone = client.post("/api/inbox/annotations/undo", {"messages": [TAX]}).json()
    assert undone["undone"] == 1
    assert annotation_of(client, TAX)["annotation"]["organisation"] == "dvv"
    client.post("/api/inbox/annotations/undo", {"messages": both})
    assert annotation_of(client, TAX)["annotation"] is None
    assert annotation_of(client, FINNISH)["annotation"] is None
    turns = client.get(f"/api/conversations/{TAX['conversation']}").json()["turns"]
    assert all(t["correction"] is None for t in turns)  # the transcript's correction went too
    assert client.post("/api/inbox/annotations/undo", {"messages": [TAX]}).json()["undone"] == 0


def test_annotated_filter(console):
    client = console.logged_in()
    client.post("/api/inbox/annotations", {"messages": [JOKE], "out_of_scope": True})
    yes = client.get("/api/inbox", annotated="yes").json()
    assert [(sender_of(i["conversation"]), i["turn"]) for i in yes["items"]] == [("web-ddd", 0)]
    assert yes["items"][0]["annotation"]["out_of_scope"] is True
    assert yes["items"][0]["annotation"]["intent"] == "out_of_scope"
    assert client.get("/api/inbox", annotated="no").json()["total"] == 7


def test_bad_annotations_are_refused_with_a_reason(console):
    client = console.logged_in()

    def error(body, status=400):
        response = client.post("/api/inbox/annotations", body)
        assert response.status == status, response.text
        return response.json()["error"]

    assert "unknown intent" in error({"messages": [TAX], "intent": "tax"})
    assert "unknown organisation" in error({"messages": [TAX], "organisation": "nasa"})
    assert "unknown service" in error({"messages": [TAX], "service": "vero.nothing"})
    assert "belongs to vero" in error(
        {"messages": [TAX], "organisation": "dvv", "service": "vero.tax_card"}
    )
    assert "out of scope means" in error(
        {"messages": [TAX], "out_of_scope": True, "intent": "greet"}
    )
    assert "give an intent" in error({"messages": [TAX]})
    assert "organisation: expected a name" in error({"messages": [TAX], "organisation": ["vero"]})
    assert "select at least one" in error({"messages": [], "intent": "greet"})
    assert "turn" in error(
        {"messages": [{"conversation": pseudonym("web-aaa"), "turn": "1"}], "intent": "greet"}
    )
    assert "no message 7" in error(
        {"messages": [TAX, {"conversation": pseudonym("web-aaa"), "turn": 7}], "intent": "greet"},
        404,
    )
    assert annotation_of(client, TAX)["annotation"] is None  # nothing half-applied
    assert "JSON" in client.request("POST", "/api/inbox/annotations", body=b"x", headers={
        "X-CSRF-Token": client.csrf}).json()["error"]  # fmt: skip


def test_export_writes_nlu_examples_and_labelled_questions(console):
    write_store(
        console.tracker,
        [
            Conversation("web-new", NOON_TODAY)
            .user("hello", "greet", metadata={"language": "en"})
            .user("which moon crater is best for a picnic", "pension", metadata={"language": "en"})
        ],
    )
    client = console.logged_in()
    client.post("/api/inbox/annotations", {"messages": [FALLBACK], "intent": "tax_registration",
                                           "organisation": "vero"})  # fmt: skip
    client.post("/api/inbox/annotations", {"messages": [FINNISH], "organisation": "migri"})
    # "tell me a joke" is already an out_of_scope example: a question, not an NLU example
    crater = {"conversation": pseudonym("web-new"), "turn": 1}
    client.post("/api/inbox/annotations", {"messages": [JOKE, crater], "out_of_scope": True})
    # "hello" is already a greet example in bot/data/nlu/en.yml: not added, and not contradicted
    client.post(
        "/api/inbox/annotations",
        {"messages": [{"conversation": pseudonym("web-new"), "turn": 0}], "intent": "thank"},
    )
    result = client.post("/api/inbox/export").json()
    settings = console.settings
    nlu = yaml.safe_load((settings.annotated_nlu_dir / "en.yml").read_text())
    examples = {b["intent"]: b["examples"].split("\n") for b in nlu["nlu"]}
    assert examples == {
        "out_of_scope": ["- which moon crater is best for a picnic", ""],
        "tax_registration": ["- qwzx blorp <ID_CODE>", ""],
    }
    assert not (settings.annotated_nlu_dir / "fi.yml").exists()  # organisation only: no intent
    assert any("training example of greet" in n for n in result["notes"])
    questions = load_questions(settings.annotated_questions)
    assert [(q.q, q.lang, q.orgs) for q in questions] == [
        ("qwzx blorp <ID_CODE>", "en", ("vero",)),
        ("Miten saan oleskeluluvan? Soita <PHONE>", "fi", ("migri",)),
        ("which moon crater is best for a picnic", "en", ()),
    ]
    assert questions[2].tags == ("annotated", "out_of_scope")
    # web-ddd's reply named no language: the question cannot be labelled, and the note says so
    assert (
        "web-ddd message 1 (staff.one): language unknown; not a labelled question"
        in (result["notes"])
    )
    assert (result["examples"], result["questions"]) == (2, 3)
    # undone annotations leave the files at the next export
    client.post("/api/inbox/annotations/undo", {"messages": [FALLBACK, FINNISH, JOKE, crater]})
    again = client.post("/api/inbox/export").json()
    assert (again["examples"], again["questions"]) == (0, 0)
    assert not (settings.annotated_nlu_dir / "en.yml").exists()
    assert load_questions(settings.annotated_questions) == []


def test_export_leaves_out_questions_already_in_an_evaluation_set(console):
    known = load_questions(DEV_SET)[0]  # "How do I get a tax card?"
    write_store(
        console.tracker,
        [Conversation("web-dup", NOON_TODAY).user(known.q.upper(), "tax_registration").answer(
            ["vero"])],
    )  # fmt: skip
    client = console.logged_in()
    ref = {"conversation": pseudonym("web-dup"), "turn": 0}
    client.post("/api/inbox/annotations", {"messages": [ref], "organisation": "dvv"})
    result = client.post("/api/inbox/export").json()
    assert result["questions"] == 0
    assert any("already in an evaluation set" in n for n in result["notes"])


def test_two_different_labels_for_one_text_are_left_out(console):
    write_store(
        console.tracker,
        [
            Conversation("web-x1", NOON_TODAY).user("zorblax form", "greet").answer(["vero"]),
            Conversation("web-x2", NOON_TODAY).user("Zorblax form?", "greet").answer(["vero"]),
        ],
    )
    client = console.logged_in()
    labels = [("web-x1", "pension", "vero"), ("web-x2", "business", "dvv")]
    for sender, intent, organisation in labels:
        client.post(
            "/api/inbox/annotations",
            {"messages": [{"conversation": pseudonym(sender), "turn": 0}], "intent": intent,
             "organisation": organisation},
        )  # fmt: skip
    result = client.post("/api/inbox/export").json()
    assert (result["examples"], result["questions"]) == (1, 1)  # the first label of each kind
    assert any("annotated pension and business" in n for n in result["notes"])
    assert any("two different organisations" in n for n in result["notes"])


def test_tags_on_messages_and_conversations_filter_the_inbox(console):
    client = console.logged_in()
    tag = "needs corpus update"
    assert client.post("/api/tags", {"tag": tag, "messages": [TAX]}).json()["added"] == 1
    assert (
        client.post("/api/tags", {"tag": tag, "conversations": [pseudonym("web-ccc")]}).json()[
            "added"
        ]
        == 1
    )
    body = client.get("/api/inbox", tag=tag).json()
    found = [(sender_of(i["conversation"]), i["turn"]) for i in body["items"]]
    assert found == [("web-ccc", 2), ("web-ccc", 1), ("web-ccc", 0), ("web-aaa", 1)]
    assert body["items"][0]["conversation_tags"] == [tag] and body["items"][3]["tags"] == [tag]
    assert body["facets"]["tags"] == [tag]
    client.post("/api/tags/remove", {"tag": tag, "conversations": [pseudonym("web-ccc")]})
    assert client.get("/api/inbox", tag=tag).json()["total"] == 1
    assert client.post("/api/tags", {"tag": "<b>", "messages": [TAX]}).status == 400
    assert (
        client.post("/api/tags", {"tag": "ok", "conversations": [pseudonym("nobody")]}).status
        == 404
    )
    assert client.post("/api/tags", {"tag": "ok"}).status == 400
