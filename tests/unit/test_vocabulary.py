"""knowledge/vocabulary.yaml is the one list; the copies Rasa and the schema need must match it.

bot/domain.yml, bot/data/nlu and the corpus schema's Literals keep their own values (Rasa and
type checkers read those), so each is compared with the vocabulary both ways, and a failure
names the value that one side lacks.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import get_args

import pytest
import yaml

from actions.answers import phrases as all_phrases
from actions.checklist import CHECKLISTS_FILE
from knowledge.schema import Audience, Municipality
from knowledge.vocabulary import VOCABULARY_FILE, VocabularyError, load_vocabulary, vocabulary
from opastin.nlu_text import labelled_examples

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_FILE = ROOT / "bot" / "domain.yml"
NLU_DIR = ROOT / "bot" / "data" / "nlu"
NOT_EXAMPLE_FILES = {"lookups.yml", "synonyms.yml"}
VOCABULARY = vocabulary()
# {"entity": "municipality", "value": "vantaa"} annotations in NLU examples.
ANNOTATION = re.compile(r'\{"entity": "(\w+)", "value": "([^"]*)"\}')


def assert_same(where: str, found: Iterable[str], expected: Iterable[str]) -> None:
    """Equal as sets; otherwise say which side lacks which value."""
    found, expected = set(found), set(expected)
    problems = [
        f"{where} lacks {value!r}, which knowledge/vocabulary.yaml lists"
        for value in sorted(expected - found)
    ] + [
        f"{where} has {value!r}, which knowledge/vocabulary.yaml does not list"
        for value in sorted(found - expected)
    ]
    assert not problems, "\n".join(problems)


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_assert_same_names_the_missing_value_on_each_side():
    with pytest.raises(AssertionError, match="slot x lacks 'vantaa'"):
        assert_same("slot x", ["helsinki"], ["helsinki", "vantaa"])
    with pytest.raises(AssertionError, match="slot x has 'turku', which"):
        assert_same("slot x", ["helsinki", "turku"], ["helsinki"])
    assert_same("slot x", ["a", "b"], ["b", "a"])


@pytest.mark.parametrize(
    ("slot", "expected"),
    [
        ("municipality", VOCABULARY.slot_municipalities),
        ("residence_status", VOCABULARY.residence_statuses),
        ("purpose", VOCABULARY.purposes),
    ],
)
def test_domain_slot_values_match_the_vocabulary(slot, expected):
    domain = load(DOMAIN_FILE)
    assert slot in domain["entities"], f"bot/domain.yml lists no entity {slot!r}"
    assert_same(f"bot/domain.yml slot {slot!r}", domain["slots"][slot]["values"], expected)


def test_domain_responses_speak_the_answered_languages():
    """Every language with its own wording has response variations; no other language has."""
    conditions = {
        condition["value"]
        for variations in load(DOMAIN_FILE)["responses"].values()
        for variation in variations
        for condition in variation.get("condition", [])
        if condition.get("name") == "language"
    }
    default = VOCABULARY.languages.default
    answered = set(VOCABULARY.languages.answered) - {default}
    assert_same("bot/domain.yml response conditions on `language`", conditions, answered)


def test_phrases_cover_the_answered_languages_and_statuses():
    phrases = all_phrases()
    assert_same("actions/phrases/ languages", phrases, VOCABULARY.languages.answered)
    default = phrases[VOCABULARY.languages.default]
    statuses = [key.removeprefix("status_") for key in default if key.startswith("status_")]
    assert_same("actions/phrases/en.yaml status_* phrases", statuses, VOCABULARY.residence_statuses)
    for language, table in phrases.items():
        extra = set(table) - set(default)
        assert not extra, f"actions/phrases/{language}.yaml has keys en.yaml lacks: {extra}"


def test_synonyms_map_to_the_entity_values():
    """synonyms.yml's canonical values are exactly the values of the four entities."""
    canonical = [block["synonym"] for block in load(NLU_DIR / "synonyms.yml")["nlu"]]
    expected = [
        *VOCABULARY.slot_municipalities,
        *VOCABULARY.residence_statuses,
        *VOCABULARY.purposes,
        *VOCABULARY.languages.requestable,
    ]
    assert_same("bot/data/nlu/synonyms.yml canonical values", canonical, expected)


def test_annotated_entity_values_are_in_the_vocabulary():
    allowed = {
        "municipality": set(VOCABULARY.slot_municipalities),
        "residence_status": set(VOCABULARY.residence_statuses),
        "purpose": set(VOCABULARY.purposes),
        "language": set(VOCABULARY.languages.requestable),
    }
    unknown = [
        f"{path.name}: {intent}: {text}"
        for path in sorted(NLU_DIR.glob("*.yml"))
        for intent, text in labelled_examples(path)
        for entity, value in ANNOTATION.findall(text)
        if value not in allowed.get(entity, set())
    ]
    assert not unknown, "entity values knowledge/vocabulary.yaml does not list:\n" + "\n".join(
        unknown
    )


def test_one_nlu_file_per_understood_language():
    """The language of an example is its file's name, so the files are the languages."""
    with_examples = {p.name for p in NLU_DIR.glob("*.yml") if labelled_examples(p)}
    expected = {f"{code}.yml" for code in VOCABULARY.languages.understood}
    assert_same("bot/data/nlu (files with intent examples)", with_examples, expected)
    assert {p.name for p in NLU_DIR.glob("*.yml")} - with_examples == NOT_EXAMPLE_FILES


def scripts(text: str) -> set[str]:
    """The scripts of the letters in `text`: LATIN, CYRILLIC, ARABIC, CJK."""
    return {unicodedata.name(c, "?").split()[0] for c in text if c.isalpha()}


# Languages written in another script than Latin; every other language is written in Latin.
SCRIPTS = {"ru": "CYRILLIC", "uk": "CYRILLIC", "ar": "ARABIC", "fa": "ARABIC", "zh": "CJK"}


def test_each_language_file_is_written_in_its_script():
    """A cheap guard against an example filed under the wrong language.

    Latin names (Kela, International House Helsinki) may stand in any language's examples.
    """
    misfiled = []
    for code in VOCABULARY.languages.understood:
        script = SCRIPTS.get(code, "LATIN")
        for intent, text in labelled_examples(NLU_DIR / f"{code}.yml"):
            found = scripts(ANNOTATION.sub("", text)) - {"LATIN"}
            if found != ({script} - {"LATIN"}):
                misfiled.append(f"{code}.yml: {intent}: {text} ({', '.join(sorted(found))})")
    assert not misfiled, "examples in another script than their file's:\n" + "\n".join(misfiled)


def test_schema_literals_match_the_vocabulary():
    assert_same("knowledge/schema.py Audience", get_args(Audience), VOCABULARY.audiences)
    assert_same(
        "knowledge/schema.py Municipality", get_args(Municipality), VOCABULARY.corpus_municipalities
    )


def test_checklists_are_per_status_and_choose_by_purpose():
    data = load(CHECKLISTS_FILE)
    assert_same("knowledge/checklists.yaml statuses", data, VOCABULARY.residence_statuses)
    choices = {
        key for steps in data.values() for step in steps if isinstance(step, dict) for key in step
    }
    assert_same("knowledge/checklists.yaml purposes", choices - {"default"}, VOCABULARY.purposes)


def write(tmp_path: Path, change: str, new: str) -> Path:
    text = VOCABULARY_FILE.read_text(encoding="utf-8")
    assert change in text
    path = tmp_path / "vocabulary.yaml"
    path.write_text(text.replace(change, new), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "new", "message"),
    [
        ("roles: [student,", "roles: [student, student,", "listed twice: student"),
        ("study: [student]", "study: [pupil]", r"purposes.study: \['pupil'\] not in roles"),
        ("  default: en", "  default: xx", "languages.default 'xx' not in languages.main"),
        ("  main: [en, fi, sv]", "  main: [en, fi, sv, kl]", r"languages.main has \['kl'\]"),
        ("  main: [en, fi, sv]", "  main: [en, fin]", "'fin': not a two-letter language code"),
        ("municipality_elsewhere: other", "municipality_elsewhere: espoo", "listed twice: espoo"),
        ("audience_for_everyone: everyone", "audience_for_everyone: worker", "twice: worker"),
        ("roles:", "roler:", "roles: Field required"),
        ("audience_for_everyone: everyone", "colour: blue", "colour: Extra inputs"),
    ],
)
def test_a_broken_vocabulary_is_refused_with_the_reason(tmp_path, change, new, message):
    path = write(tmp_path, change, new)
    with pytest.raises(VocabularyError, match=message) as error:
        load_vocabulary(path)
    assert str(path) in str(error.value)


def test_a_missing_vocabulary_file_is_named(tmp_path):
    with pytest.raises(VocabularyError, match="cannot read the vocabulary"):
        load_vocabulary(tmp_path / "nowhere.yaml")


def test_the_vocabulary_file_loads_as_the_project_uses_it():
    loaded = load_vocabulary()
    assert loaded == VOCABULARY
    assert loaded.slot_municipalities[-1] == loaded.municipality_elsewhere
    assert set(loaded.languages.main) <= set(loaded.languages.understood)
