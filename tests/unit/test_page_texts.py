"""web/opastin-texts.json: the chat page's words in exactly the languages the bot answers in.

The page links every language of the file, and the bot answers in those of
knowledge/vocabulary.yaml's `languages.answered`: each side must cover the other, so a language
added to one is noticed in the other. The loader's errors name the file, language and field.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from knowledge.vocabulary import vocabulary
from opastin.page_texts import TEXTS_FILE, PageTexts, PageTextsError, load_page_texts

TEXTS = load_page_texts()
ANSWERED = vocabulary().languages.answered
RIGHT_TO_LEFT_CLASSES = {"R", "AL"}  # Unicode bidi classes of Hebrew and Arabic letters


@pytest.mark.parametrize("language", ANSWERED)
def test_every_answered_language_has_page_texts(language):
    assert language in TEXTS, f"web/opastin-texts.json lacks {language!r}, which the bot answers in"


@pytest.mark.parametrize("language", list(TEXTS))
def test_the_page_offers_only_languages_the_bot_answers_in(language):
    assert language in ANSWERED, (
        f"web/opastin-texts.json offers {language!r}, which knowledge/vocabulary.yaml's "
        "languages.answered does not list"
    )


@pytest.mark.parametrize("language", list(TEXTS))
def test_direction_follows_the_script_of_the_language_name(language):
    """Right to left exactly when the language's own name is written in a right-to-left
    script, so a new Arabic-script language cannot be added left to right by mistake."""
    texts = TEXTS[language]
    first_letter = next(c for c in texts.name if unicodedata.category(c).startswith("L"))
    rtl = unicodedata.bidirectional(first_letter) in RIGHT_TO_LEFT_CLASSES
    assert texts.dir == ("rtl" if rtl else "ltr"), f"{language}: {texts.name!r} vs {texts.dir}"


def test_no_two_languages_share_a_link_name():
    names = [texts.name for texts in TEXTS.values()]
    assert len(set(names)) == len(names)


def test_translated_strings_are_not_english_copies():
    english = TEXTS["en"]
    for language, texts in TEXTS.items():
        if language == "en":
            continue
        same = [
            key
            for key in ("intro", "hint", "send", "slow_down")
            if getattr(texts, key) == getattr(english, key)
        ]
        assert not same, f"{language}: {same} still in English"


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "texts.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def entry(**changes: str) -> dict[str, str]:
    return {**TEXTS["en"].model_dump(), **changes}


def test_a_missing_string_is_named(tmp_path):
    broken = entry()
    del broken["hint"]
    with pytest.raises(PageTextsError, match=r"language 'fi': hint: Field required"):
        load_page_texts(write(tmp_path, {"en": entry(), "fi": broken}))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"en": entry(dir="rl")}, r"language 'en': dir: Input should be 'ltr' or 'rtl'"),
        ({"en": entry(send="")}, r"language 'en': send: String should have at least 1"),
        ({"en": {**entry(), "extra": "x"}}, r"language 'en': extra: Extra inputs"),
        ({"en": entry(slow_down="Please wait.")}, r"language 'en': slow_down: String should"),
        ({"en": entry(slow_down="Wait {secs} s")}, r"language 'en': slow_down: String should"),
        ({"en": entry(), "fin": entry()}, r"'fin' is not a two-letter language code"),
        ({"fi": entry()}, r"has no 'en' entry"),
        ([], r"must be an object"),
    ],
)
def test_bad_files_are_refused_with_the_reason(tmp_path, data, message):
    with pytest.raises(PageTextsError, match=message):
        load_page_texts(write(tmp_path, data))


def test_not_json_is_refused_with_the_line(tmp_path):
    path = tmp_path / "texts.json"
    path.write_text('{"en": {\n  "name": "English",,\n}}', encoding="utf-8")
    with pytest.raises(PageTextsError, match=r"texts.json:2: not JSON"):
        load_page_texts(path)


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(PageTextsError, match="cannot read"):
        load_page_texts(tmp_path / "absent.json")


def test_entries_keep_the_file_order_for_the_links():
    raw = json.loads(TEXTS_FILE.read_text(encoding="utf-8"))
    assert list(TEXTS) == list(raw)
    assert all(isinstance(texts, PageTexts) for texts in TEXTS.values())
