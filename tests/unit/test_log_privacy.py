"""No user text and no user identifier in our logs at INFO or above (docs/privacy.md).

Logs go to files and log collectors that keep them longer, and show them to more people, than
the tracker store. This test reads every logging call in bot/, actions/ and console/ and fails
when a call at INFO or above passes something that holds what a user typed or who they are
(message text, sender or chat ids), unless it goes through actions.log_privacy.describe_message
(length and a per-process keyed hash).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from opastin.config import ROOT

PACKAGES = ("bot", "actions", "console")
LEVELS = {"info", "warning", "warn", "error", "exception", "critical", "log"}
LOGGERS = re.compile(r"(^|\.)(logger|log|logging|_logger|LOGGER)$")
# Names that hold a user's words or identity wherever they appear in our code.
PERSONAL = re.compile(
    r"\b(text|texts|raw_text|message|messages|question|utterance|preview|latest_message|"
    r"sender|sender_id|sender_ids|senders|chat|chat_id|recipient_id|user_id|from_user|"
    r"username|first_name|phone|email)\b"
)
SAFE_WRAPPERS = ("describe_message(",)


def _expressions(argument: ast.expr) -> list[ast.expr]:
    """What a logging argument interpolates: an f-string's {expressions}, or the argument."""
    if isinstance(argument, ast.JoinedStr):
        return [v.value for v in argument.values if isinstance(v, ast.FormattedValue)]
    return [] if isinstance(argument, ast.Constant) else [argument]


def personal_arguments(source: str) -> list[tuple[int, str]]:
    """(line, expression) for each logging argument at INFO+ that names personal data."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in LEVELS or not LOGGERS.search(ast.unparse(node.func.value)):
            continue
        arguments = list(node.args) + [k.value for k in node.keywords]
        for argument in arguments:
            for part in _expressions(argument):
                text = ast.unparse(part)
                if PERSONAL.search(text) and not text.startswith(SAFE_WRAPPERS):
                    found.append((node.lineno, text))
    return found


def our_python_files() -> list[Path]:
    files = [p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))]
    return [p for p in files if "tests" not in p.relative_to(ROOT).parts]


def test_the_check_finds_what_it_looks_for():
    leaky = (
        "logger.info('search %r', question)\n"
        "logger.warning(f'could not send to chat {params.get(\"chat_id\")}')\n"
        "logging.error('from %s', tracker.sender_id)\n"
        "logger.debug('text %s', text)\n"  # DEBUG is not collected in production
        "logger.info('search %s', describe_message(question))\n"
        "logger.info('deleted %d conversations', len(result.conversations))\n"
    )
    assert [line for line, _ in personal_arguments(leaky)] == [1, 2, 3]


def test_no_user_text_or_identifier_in_logs_at_info_or_above():
    assert len(our_python_files()) > 20
    leaks = [
        f"{path.relative_to(ROOT)}:{line}: {expression}"
        for path in our_python_files()
        for line, expression in personal_arguments(path.read_text(encoding="utf-8"))
    ]
    assert leaks == [], "log a describe_message() or a count instead:\n" + "\n".join(leaks)


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_is_read(package):
    assert any(p.relative_to(ROOT).parts[0] == package for p in our_python_files())
