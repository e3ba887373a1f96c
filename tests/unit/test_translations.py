"""Translations (knowledge/translations/): format errors, merge, and the checks that hold every
translation to its English text."""

from __future__ import annotations

from pathlib import Path

import pytest

from actions.answers import in_language
from knowledge.loader import CorpusError, load_corpus, load_translations
from knowledge.translations import (
    TRANSLATIONS_DIR,
    lost_parts,
    merge,
    organisation_stamp,
    report,
    service_stamp,
)
from knowledge.vocabulary import vocabulary

ENGLISH = load_corpus(translations=False)


def write(directory: Path, language: str, body: str) -> Path:
    path = directory / f"{language}.yaml"
    path.write_text(f"language: {language}\n{body}", encoding="utf-8")
    return path


def test_numbers_urls_and_names_must_survive_translation():
    english = "Apply at International House Helsinki (Mon–Fri 9–12) or in MyTax: form 6150e."
    kept = "Hae palvelupisteessä International House Helsinki (ma–pe 9–12) tai OmaVerossa: 6150e."
    assert lost_parts(english, kept) == []
    dropped = "Hae Kansainvälisessä talossa (ma–pe 9–11) tai verkossa: lomake."
    assert lost_parts(english, dropped) == [
        "12",
        "6150",
        "International House Helsinki",
        "MyTax",
    ]
    assert lost_parts("See https://migri.fi/en/x.", "Katso migri.fi.") == ["https://migri.fi/en/x"]
    assert lost_parts("Go to Hämeentie 15.", "Идите на Hämeentie 15.") == []


def test_an_unknown_service_id_names_the_file_line_and_field(tmp_path):
    path = write(
        tmp_path,
        "ru",
        "services:\n  vero.tax_card:\n    title: a\n    description: b\n    how_to: c\n"
        "    translated_from: 0123456789ab\n"
        "  vero.no_such_service:\n    title: a\n    description: b\n    how_to: c\n"
        "    translated_from: 0123456789ab\n",
    )
    with pytest.raises(CorpusError) as error:
        load_translations(ENGLISH, tmp_path)
    assert f"{path}:8: services.vero.no_such_service: unknown id" in str(error.value)


def test_a_malformed_entry_is_reported_not_merged(tmp_path):
    write(tmp_path, "ru", "services:\n  vero.tax_card:\n    title: ''\n    how_to: c\n")
    with pytest.raises(CorpusError) as error:
        load_translations(ENGLISH, tmp_path)
    message = str(error.value)
    assert "ru.yaml:4: services.vero.tax_card.title" in message
    assert "services.vero.tax_card.description: Field required" in message
    write(tmp_path, "ru", "language: uk\n")  # the file says another language
    with pytest.raises(CorpusError, match="language: must equal the file name"):
        load_translations(ENGLISH, tmp_path)


def test_merged_texts_reach_the_answers_and_english_stays_the_fallback(tmp_path):
    org = organisation_stamp(ENGLISH.organisations["vero"])
    card = service_stamp(ENGLISH.services["vero.tax_card"])
    write(
        tmp_path,
        "ru",
        f"organisations:\n  vero:\n    name: Налоговая (Verohallinto)\n    summary: s\n"
        f"    translated_from: {org}\n"
        f"services:\n  vero.tax_card:\n    title: Налоговая карта\n    description: d\n"
        f"    how_to: шаг\n    url: https://www.vero.fi/ru/\n    translated_from: {card}\n",
    )
    corpus = merge(ENGLISH, load_translations(ENGLISH, tmp_path))
    card = corpus.services["vero.tax_card"]
    assert in_language(card.title, "ru") == "Налоговая карта"
    assert card.url_in("ru") == "https://www.vero.fi/ru/" and card.url_in("en") == str(card.url)
    assert corpus.organisations["vero"].name["ru"] == "Налоговая (Verohallinto)"
    other = corpus.services["vero.tax_return"]
    assert in_language(other.how_to, "ru") == other.how_to["en"]
    [item] = report(ENGLISH, load_translations(ENGLISH, tmp_path))
    assert item.unreviewed == 2 and "vero.tax_return" in item.missing and item.outdated == []


def test_a_translation_of_english_that_has_changed_since_is_not_used(tmp_path):
    """An audit corrects the English: the old translation would contradict it, so the answer
    falls back to English and the entry is listed as outdated until re-translated."""
    write(
        tmp_path,
        "ru",
        "services:\n  vero.tax_card:\n    title: Налоговая карта\n    description: d\n"
        "    how_to: старый шаг\n    translated_from: 0123456789ab\n",
    )
    files = load_translations(ENGLISH, tmp_path)
    card = merge(ENGLISH, files).services["vero.tax_card"]
    assert in_language(card.how_to, "ru") == card.how_to["en"]
    [item] = report(ENGLISH, files)
    assert item.outdated == ["vero.tax_card"]


TRANSLATED = [
    lang for lang in vocabulary().languages.answered if lang not in vocabulary().languages.main
]


@pytest.fixture(scope="module")
def translation_files():
    """Every translation file, read and checked once for the module."""
    return load_translations(ENGLISH, TRANSLATIONS_DIR)


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_answered_language_has_every_text_with_nothing_lost(translation_files, language):
    """Issue 14: full answers in every answered language, every number and name kept."""
    files = translation_files
    assert language in files, f"no knowledge/translations/{language}.yaml"
    [item] = report(ENGLISH, {language: files[language]})
    assert item.missing == [], f"{language}: {len(item.missing)} missing: {item.missing[:5]}"
    assert item.lost == [], f"{language}: texts that lose parts of the English: {item.lost[:5]}"
    assert item.outdated == [], f"{language}: English changed since translated: {item.outdated}"


@pytest.mark.slow
def test_translations_mean_what_the_english_says():
    """Every translated answer text is nearer its own English text than any other service's,
    by the calibrated margin; and a wrong text (another service's) fails the same check."""
    from tools.translations import MEANING_FLOOR, Meaning, answer_text, margins, recorded_margins

    meaning = Meaning(ENGLISH)
    files = load_translations(ENGLISH, TRANSLATIONS_DIR)
    found = recorded_margins(meaning, ENGLISH, {k: v for k, v in files.items() if k in TRANSLATED})
    below = {
        lang: sorted((m, sid) for sid, m in margins_.items() if m < MEANING_FLOOR)
        for lang, margins_ in found.items()
    }
    assert not any(below.values()), f"translations below the meaning floor: {below}"
    finnish = [ENGLISH.services[i] for i in meaning.ids[:20]]
    swapped = meaning.encoder.encode_passages(
        [answer_text(s.title["fi"], s.how_to["fi"]) for s in finnish]
    )
    wrong = margins(meaning.english, swapped, [(i + 1) % 20 for i in range(20)])
    assert (wrong < MEANING_FLOOR).mean() >= 0.9
