"""Mask personal data that users type: Finnish identity codes, phone numbers, e-mail addresses.

Applied to everything the console shows and exports, so staff reviewing conversations (and the
test files that end up in git) never carry a person's identifiers. Masking errs on the side of
masking: a typo'd identity code is still personal data, so no checksum is required.
"""

from __future__ import annotations

import re
from typing import Any

EMAIL_TOKEN = "<EMAIL>"
ID_CODE_TOKEN = "<ID_CODE>"
PHONE_TOKEN = "<PHONE>"

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Henkilötunnus: DDMMYY, century sign (+, -, A-F for the 2000s, U-Y as extra 1900s signs since
# 2023), a three-digit individual number and a check character (digits and letters but G, I,
# O, Q, Z).
ID_CODE = re.compile(
    r"(?<![0-9A-Za-z])(?:0[1-9]|[12]\d|3[01])(?:0[1-9]|1[0-2])\d\d[-+A-FU-Ya-fu-y]\d{3}"
    r"[0-9A-HJ-NPR-Ya-hj-npr-y](?![0-9A-Za-z])"
)
# Phone numbers: international (+ or 00 and a country code) or Finnish national (leading 0),
# with spaces, dots, dashes or brackets between groups; 7 to 15 digits in all.
PHONE = re.compile(r"(?<![\w+(])\(?(?:\+|00|0)\d(?:[\s.\-/()]{0,2}\d){5,16}(?![\w])")
DATE = re.compile(r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}")


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = sum(c.isdigit() for c in text)
    if not 7 <= digits <= 15 or DATE.fullmatch(text.strip()):
        return text
    return PHONE_TOKEN


def mask_text(text: str) -> str:
    """The text with identity codes, e-mail addresses and phone numbers replaced by tokens."""
    if not text:
        return text
    text = EMAIL.sub(EMAIL_TOKEN, text)
    text = ID_CODE.sub(ID_CODE_TOKEN, text)
    return PHONE.sub(_phone, text)


def mask_data(value: Any) -> Any:
    """Mask every string inside nested dicts and lists (slots, entities, metadata)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list):
        return [mask_data(v) for v in value]
    if isinstance(value, dict):
        return {k: mask_data(v) for k, v in value.items()}
    return value
