"""The chat page's and widget's own words in each language, read from web/opastin-texts.json.

Why a data file: the page server (title, intro line, language links) and the widget loader in
the browser (placeholder, send button, "connecting") show the same strings, and adding a
language must not mean editing Python and JavaScript. The file is JSON so that the loader can
read it as it is on a city site, without the page server. Validated when the page server starts.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from opastin.config import ROOT

TEXTS_FILE = ROOT / "web" / "opastin-texts.json"
LANGUAGE_CODE = re.compile(r"^[a-z]{2}$")
DEFAULT_LANGUAGE = "en"


class PageTextsError(ValueError):
    """The texts file is missing, not JSON, or an entry lacks a string or has a bad value."""


class PageTexts(BaseModel):
    """One language's entry: every string the page and the widget show, and the writing order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, description="the language's name in itself, for its link")
    dir: Literal["ltr", "rtl"]
    title: str = Field(min_length=1, description="the page's <title>")
    intro: str = Field(min_length=1, description="the line beside the page heading")
    languages: str = Field(min_length=1, description="accessible label of the language links")
    subtitle: str = Field(min_length=1, description="the widget header's subtitle")
    hint: str = Field(min_length=1, description="the message field's placeholder")
    send: str = Field(min_length=1, description="the send button's accessible label")
    connecting: str = Field(min_length=1, description="shown while the widget connects")
    slow_down: str = Field(
        pattern=r"^[^{}]*\{seconds\}[^{}]*$",
        description="shown when the server refuses a message as one too many (its rate limit); "
        "{seconds} is replaced by the wait the server asks for",
    )


def load_page_texts(path: Path = TEXTS_FILE) -> dict[str, PageTexts]:
    """Every language's texts in file order (the order of the language links), validated."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise PageTextsError(f"{path}: cannot read ({error.strerror})") from error
    except json.JSONDecodeError as error:
        raise PageTextsError(f"{path}:{error.lineno}: not JSON: {error.msg}") from error
    if not isinstance(raw, dict):
        raise PageTextsError(f"{path}: must be an object of language code -> texts")
    texts: dict[str, PageTexts] = {}
    for code, entry in raw.items():
        if not LANGUAGE_CODE.match(code):
            raise PageTextsError(f"{path}: {code!r} is not a two-letter language code")
        try:
            texts[code] = PageTexts.model_validate(entry)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'entry'}: {e['msg']}" for e in error.errors()
            )
            raise PageTextsError(f"{path}: language {code!r}: {problems}") from error
    if DEFAULT_LANGUAGE not in texts:
        raise PageTextsError(f"{path}: has no {DEFAULT_LANGUAGE!r} entry, the fallback language")
    return texts
