"""The website widget in headless Chromium, at phone size (390x844), as a newcomer uses it.

Screenshots go to test-artifacts/ (widget-*.png); the conversation test also writes its
observations and timings to test-artifacts/browser-conversation.json.
"""

from __future__ import annotations

import json
import time

import pytest

from opastin.page_texts import load_page_texts
from tests.browser.conftest import ARTIFACTS, drive, tracker_events, user_messages

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

QUESTION = "How do I get a tax card?"
TAX = "Finnish Tax Administration"
FOLLOW_UP = "And I need a residence permit"
MIGRI = "Finnish Immigration Service"
# The bot may first ask for the citizenship, with buttons; the test then taps this one.
CHOICE = "Other citizenship"
GREETING = "I'm Opastin"
HTML_ATTACKS = ["<img src=x onerror=alert(1)>", "<script>alert(2)</script>"]
# Markdown a reply could carry: a javascript: link, an autolink, a raw anchor.
LINK_ATTACKS = [
    "[open your tax card](javascript:alert(3))",
    "<javascript:alert(4)>",
    '<a href="javascript:alert(5)">x</a>',
]


def assert_clean(events: dict) -> None:
    """No dialog, no script error, no CSP violation, nothing fetched from the internet."""
    assert events["dialogs"] == [], "a dialog fired: some text ran as script"
    assert events["pageErrors"] == []
    assert events["consoleErrors"] == []
    assert events["externalRequests"] == [], "the page must load nothing from outside (no CDN)"


def assert_fits_phone(layout: dict) -> None:
    width, height = layout["viewportWidth"], layout["viewportHeight"]
    assert (width, height) == (390, 844)
    assert layout["scrollWidth"] <= width, "the page scrolls sideways on a phone"
    assert layout["widestBubbleRight"] <= width
    field = layout["input"]
    assert field and field["left"] >= 0 and field["right"] <= width and field["bottom"] <= height


def test_conversation_answers_and_survives_a_reload(web_stack, chat_page, browser_tools):
    started = time.monotonic()
    seen = drive(
        scenario="conversation",
        url=chat_page + "/",
        greeting=GREETING,
        question=QUESTION,
        expect=TAX,
        followUp=FOLLOW_UP,
        followUpExpect=MIGRI,
        followUpChoice=CHOICE,
    )
    seconds = time.monotonic() - started
    (ARTIFACTS / "browser-conversation.json").write_text(
        json.dumps({"seconds": round(seconds, 1), **seen}, indent=2, ensure_ascii=False)
    )

    # The answer names the organisation, keeps its line breaks and links the official page.
    answer = "\n".join(seen["answer"])
    assert TAX in answer
    assert seen["answerHasLineBreaks"], f"the answer lost its line breaks: {seen['answer']}"
    assert any(link.startswith("https://") for link in seen["answerLinks"]), seen["answerLinks"]
    assert_fits_phone(seen["layout"])

    # After the reload the same conversation is on screen, nothing re-sent, same session.
    assert seen["sessionId"] and seen["sessionIdAfterReload"] == seen["sessionId"]
    assert seen["clientsAfterReload"] == seen["clientsBefore"] == [QUESTION]
    assert seen["responsesAfterReload"] == seen["responsesBefore"]
    assert MIGRI in "\n".join(seen["followUp"])
    assert_fits_phone(seen["layoutAfterFollowUp"])
    assert_clean(seen["events"])

    # Server side: one conversation, keyed by the widget's session id, with the page language.
    events = tracker_events(web_stack.settings.tracker_path, seen["sessionId"])
    said = user_messages(events)
    texts = [e["text"] for e in said]
    assert texts[:3] == ["/greet", QUESTION, FOLLOW_UP]
    if seen["followUpChoice"]:  # the tapped button sent its payload in the same conversation
        assert seen["followUpChoice"] == CHOICE
        assert len(texts) == 4 and texts[3].startswith("/inform")
    else:
        assert len(texts) == 3
    assert all(e["input_channel"] == "socketio" for e in said)
    assert all(e["metadata"].get("language") == "en" for e in said)


def test_html_typed_by_the_user_is_shown_as_text(web_stack, chat_page, browser_tools):
    # bypassCSP: the page's Content-Security-Policy would block inline script anyway; this
    # checks the widget itself, as on a city site without such a policy.
    seen = drive(
        scenario="hostile",
        name="user",
        url=chat_page + "/",
        bypassCSP=True,
        messages=HTML_ATTACKS,
    )
    assert seen["clients"] == HTML_ATTACKS, "the user's text is shown literally"
    assert all(reply for reply in seen["replies"]), "the bot still answers"
    dom = seen["dom"]
    assert dom["injectedImages"] == dom["scriptsInChat"] == dom["elementsWithHandlers"] == 0
    assert not dom["pwned"]
    assert_clean(seen["events"])


def test_html_and_script_links_in_bot_replies_stay_inert(echo_bot, browser_tools):
    """The bot's text is Markdown to the widget: HTML must stay text, javascript: links dead."""
    seen = drive(
        scenario="hostile",
        name="bot",
        url=echo_bot["page"] + "/",
        bypassCSP=True,
        messages=HTML_ATTACKS + LINK_ATTACKS,
    )
    replies = ["\n".join(reply) for reply in seen["replies"]]
    for attack, reply in zip(HTML_ATTACKS, replies, strict=False):
        assert attack in reply, f"the bot's echo of {attack!r} is not shown as text: {reply!r}"
    dom = seen["dom"]
    assert dom["injectedImages"] == dom["scriptsInChat"] == dom["elementsWithHandlers"] == 0
    assert dom["iframes"] == 0
    assert dom["javascriptLinks"] == 0, "a javascript: link is live in the chat"
    # The Markdown link did become an anchor, and the loader disarmed it (so this test can fail).
    assert dom["blockedLinks"] >= 1
    assert seen["events"]["popups"] == [], "clicking a disarmed link opened something"
    assert not dom["pwned"]
    assert_clean(seen["events"])


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_page_language_reaches_the_bot_as_metadata(echo_bot, browser_tools, language):
    seen = drive(
        scenario="hostile",
        name=f"lang-{language}",
        url=f"{echo_bot['page']}/?lang={language}",
        messages=["Kela"],
    )
    # The echo bot repeats message.metadata["language"]: the greeting and the message carry it.
    assert f"Echo ({language}): /greet" in "\n".join(seen["greeting"])
    assert f"Echo ({language}): Kela" in "\n".join(seen["replies"][0])
    assert_clean(seen["events"])


def test_example_city_page_opens_the_chat_from_its_launcher(echo_bot, browser_tools):
    seen = drive(
        scenario="launcher",
        url=echo_bot["page"] + "/example",
        greeting="Echo (fi): /greet",
        question="Hei",
        expect="Echo (fi): Hei",
    )
    assert seen["placeholder"] == load_page_texts()["fi"].hint, "the Finnish texts did not load"
    assert_fits_phone(seen["layout"])
    assert_clean(seen["events"])


def test_a_burst_gets_a_please_wait_notice_in_the_page_language(echo_bot, browser_tools):
    """More messages at once than the connector allows (30 a minute, 15 at once, the default):
    the refused ones get the server's `rate_limited` event, which the widget turns into a
    notice in the page's language with the wait; after it the conversation goes on."""
    texts = load_page_texts()["fi"]
    seen = drive(
        scenario="burst",
        name="fi",
        url=f"{echo_bot['page']}/?lang=fi",
        greeting="Echo (fi): /greet",
        count=20,
        question="Kela",
        expect="Echo (fi): Kela",
    )
    before, _, after = texts.slow_down.partition("{seconds}")
    notice = seen["notice"]
    assert notice.startswith(before) and notice.endswith(after), notice
    seconds = int(notice[len(before) : len(notice) - len(after)])
    assert 1 <= seconds <= 60
    assert seen["role"] == "status"
    box, viewport = seen["noticeBox"], seen["viewport"]
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], box
    assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"], box
    assert "Echo (fi): Kela" in "\n".join(seen["after"])
    assert_clean(seen["events"])
