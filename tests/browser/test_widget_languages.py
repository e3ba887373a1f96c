"""The chat page in every answered language, and mirrored for Arabic and Persian, in Chromium.

Real headless Chromium at phone size against the echo bot (tests/browser/echo_bot.py), which
repeats the page language the widget sent as metadata. Layout is checked from bounding boxes
and computed styles; screenshots go to test-artifacts/ (widget-direction-*.png,
widget-lang-*.png) and each test prints the paths it wrote.
"""

from __future__ import annotations

from typing import Any

import pytest

from knowledge.vocabulary import vocabulary
from opastin.page_texts import load_page_texts
from tests.browser.conftest import drive

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TEXTS = load_page_texts()
# The bot's languages first (knowledge/vocabulary.yaml), then any other the page offers.
LANGUAGES = list(dict.fromkeys([*vocabulary().languages.answered, *TEXTS]))
# Bubbles sit this close to their side of the message list (the widget's 10 px margin).
SIDE_GAP = 25
PIXEL = 1.5

# A two-line message per page language: the second line is a sentence with a Latin name in it.
# `first` starts that sentence, `latin` is inside it, `last` ends it.
MESSAGES: dict[str, dict[str, Any]] = {
    "ar": {"lines": ["مرحبا", "كيف أسجل في Kela؟"], "first": "كيف", "latin": "Kela", "last": "؟"},
    "fa": {
        "lines": ["سلام", "چطور در Kela ثبت نام کنم؟"],
        "first": "چطور",
        "latin": "Kela",
        "last": "؟",
    },
    "fi": {
        "lines": ["Hei", "Miten haen Kela-korttia?"],
        "first": "Miten",
        "latin": "Kela",
        "last": "?",
    },
}
ENGLISH_LINE = "Official page"  # the echo bot's second line, in English on every page


def report(capsys: pytest.CaptureFixture[str], *paths: str) -> None:
    """Name the screenshots in the test's output, also when the test passes."""
    with capsys.disabled():
        for path in paths:
            print(f"\nscreenshot: {path}")


def talk(echo_bot: dict[str, str], language: str) -> dict[str, Any]:
    message = MESSAGES[language]
    seen = drive(
        scenario="direction",
        name=language,
        url=f"{echo_bot['page']}/?lang={language}",
        greeting=f"Echo ({language}): /greet",
        message="\n".join(message["lines"]),
        expect=f"Echo ({language}): {message['lines'][0]}",
        fragments=[message["first"], message["latin"], message["last"], ENGLISH_LINE],
    )
    assert seen["events"]["pageErrors"] == seen["events"]["consoleErrors"] == []
    return seen


def assert_reading_order(layout: dict[str, Any], language: str, rtl: bool) -> None:
    """Words of the user's sentence in reading order; the URL in the bot's reply left to right."""
    message = MESSAGES[language]
    words = layout["clientWords"]
    first, latin, last = words[message["first"]], words[message["latin"]], words[message["last"]]
    assert first and latin and last, f"text not found in the user's bubble: {words}"
    assert abs(first["top"] - latin["top"]) < PIXEL, "the test sentence should fit on one line"
    if rtl:
        assert first["left"] >= latin["right"] - PIXEL, f"{message['first']} not right of Kela"
        assert last["right"] <= latin["left"] + PIXEL, "the question mark is not at the left end"
    else:
        assert first["right"] <= latin["left"] + PIXEL
        assert last["left"] >= latin["right"] - PIXEL
    assert layout["linkText"] and layout["linkText"].endswith("/"), layout["linkText"]
    start, end = layout["linkStart"], layout["linkEnd"]
    assert end["left"] > start["left"], f"the URL {layout['linkText']} is drawn out of order"


def assert_paragraph_sides(layout: dict[str, Any], language: str, rtl: bool) -> None:
    """In the bot's bubble, the page-language line starts at the start side, English at the left."""
    bubble, style = layout["response"], layout["responseStyle"]
    content_left = bubble["left"] + style["paddingLeft"]
    content_right = bubble["right"] - style["paddingRight"]
    english = layout["responseWords"][ENGLISH_LINE]
    assert abs(english["left"] - content_left) < PIXEL, "an English line must start at the left"
    native = layout["responseWords"][MESSAGES[language]["first"]]
    if rtl:
        assert abs(native["right"] - content_right) < PIXEL, "the RTL line is not right-aligned"


@pytest.mark.parametrize("language", ["ar", "fa"])
def test_right_to_left_page_mirrors_the_chat(echo_bot, browser_tools, capsys, language):
    assert TEXTS[language].dir == "rtl"
    seen = talk(echo_bot, language)
    report(capsys, seen["screenshot"])
    layout = seen["layout"]
    assert layout["htmlDir"] == "rtl"
    assert layout["documentDirection"] == layout["chatDirection"] == "rtl"
    box = layout["container"]
    # The bot on the right, the user on the left.
    assert box["right"] - layout["response"]["right"] < SIDE_GAP, layout
    assert layout["response"]["left"] - box["left"] > SIDE_GAP, layout
    assert layout["client"]["left"] - box["left"] < SIDE_GAP, layout
    assert box["right"] - layout["client"]["right"] > SIDE_GAP, layout
    assert layout["responseStyle"]["direction"] == layout["clientStyle"]["direction"] == "rtl"
    assert layout["responseStyle"]["textAlign"] == layout["clientStyle"]["textAlign"] == "start"
    # The message field on the right, the send button on its left.
    assert layout["send"]["right"] <= layout["field"]["left"] + PIXEL, layout
    assert_reading_order(layout, language, rtl=True)
    assert_paragraph_sides(layout, language, rtl=True)


def test_left_to_right_page_is_not_mirrored(echo_bot, browser_tools, capsys):
    assert TEXTS["fi"].dir == "ltr"
    seen = talk(echo_bot, "fi")
    report(capsys, seen["screenshot"])
    layout = seen["layout"]
    assert layout["htmlDir"] == "ltr"
    assert layout["documentDirection"] == layout["chatDirection"] == "ltr"
    box = layout["container"]
    assert layout["response"]["left"] - box["left"] < SIDE_GAP, layout
    assert box["right"] - layout["response"]["right"] > SIDE_GAP, layout
    assert box["right"] - layout["client"]["right"] < SIDE_GAP, layout
    assert layout["client"]["left"] - box["left"] > SIDE_GAP, layout
    assert layout["send"]["left"] >= layout["field"]["right"] - PIXEL, layout
    assert_reading_order(layout, "fi", rtl=False)
    assert_paragraph_sides(layout, "fi", rtl=False)


def test_every_language_gets_the_page_in_that_language(echo_bot, browser_tools, capsys):
    """One tab per language; the page's and widget's words from web/opastin-texts.json."""
    missing = [language for language in LANGUAGES if language not in TEXTS]
    assert not missing, f"web/opastin-texts.json has no texts for {missing}"
    seen = drive(scenario="languages", url=echo_bot["page"], languages=LANGUAGES)
    pages = seen["pages"]
    report(capsys, *(pages[language]["screenshot"] for language in LANGUAGES))
    names = [(entry.name, code) for code, entry in TEXTS.items()]
    for language in LANGUAGES:
        page, texts = pages[language], TEXTS[language]
        assert (page["htmlLang"], page["htmlDir"]) == (language, texts.dir)
        assert page["chatLang"] == language
        assert (page["title"], page["intro"]) == (texts.title, texts.intro)
        assert (page["placeholder"], page["sendLabel"]) == (texts.hint, texts.send), language
        # The widget told the bot the page language (the echo bot repeats the metadata).
        assert f"Echo ({language}): /greet" in "\n".join(page["greeting"])
        assert [(link["text"], link["hreflang"]) for link in page["links"]] == names
        assert [link["href"] for link in page["links"]] == [f"/?lang={code}" for code in TEXTS]
        assert [link["hreflang"] for link in page["links"] if link["current"]] == [language]
        assert page["scrollWidth"] <= page["viewportWidth"], f"{language} page scrolls sideways"
    assert seen["events"]["pageErrors"] == seen["events"]["consoleErrors"] == []
    assert seen["events"]["externalRequests"] == []
