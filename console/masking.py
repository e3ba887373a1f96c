"""Mask personal data that users type: identity codes, IBANs, phone numbers, e-mail addresses.

Applied to everything the console shows and exports, so staff reviewing conversations (and the
test files that end up in git) never carry a person's identifiers. Masking errs on the side of
masking: a typo'd identity code or IBAN is still personal data, so no checksum is required.

Users write the same identifier in many ways: an en dash or a space instead of the hyphen of an
identity code, Arabic-Indic or Persian digits, full-width characters from a Chinese keyboard,
no-break spaces from a phone's autocorrect. The patterns run on a normalised copy of the text
(NFKC per character cluster, every dash to "-", every space to " ", every decimal digit to
ASCII); what they find is replaced in the original text, so everything else stays as typed.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

EMAIL_TOKEN = "<EMAIL>"
ID_CODE_TOKEN = "<ID_CODE>"
IBAN_TOKEN = "<IBAN>"
PHONE_TOKEN = "<PHONE>"

# Local part and domain may hold any letters (IDN addresses such as jyrki.mäki@esimerkki.fi or
# пользователь@пример.рф); the top-level domain is letters, or punycode.
EMAIL = re.compile(
    r"(?<![\w.%+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.(?:[^\W\d_]{2,}|xn--[\w-]+)(?![\w-])"
)
# Henkilötunnus: DDMMYY, century sign (+, -, A-F for the 2000s, U-Y as extra 1900s signs since
# 2023), a three-digit individual number and a check character (digits and letters but G, I,
# O, Q, Z). Spaces around the sign, a space instead of it, and a space or dot inside the date
# part are accepted: people type "010190 - 123A" and "01.01.90-123A".
_DATE_PART = r"(?:0[1-9]|[12]\d|3[01])[ .]?(?:0[1-9]|1[0-2])[ .]?\d\d"
ID_CODE = re.compile(
    rf"(?<![0-9A-Za-z]){_DATE_PART}(?: ?[-+A-FU-Ya-fu-y] ?| )\d{{3}}"
    r"[0-9A-HJ-NPR-Ya-hj-npr-y](?![0-9A-Za-z])"
)
# IBAN: country letters, two check digits, then the account in groups of four (spaces optional)
# and a last group of 1-3 digits (never a short word: "... 1332 y mi").
# To keep words out ("fi12 what does this mean"), the account part needs at least 8 digits.
IBAN = re.compile(r"(?<![\w])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?\d{1,3})?(?![\w])")
IBAN_MIN_DIGITS = 8
# Phone numbers with a prefix: international (+ or 00 and a country code) or Finnish national
# (leading 0), with spaces, dots, dashes or brackets between groups; 7 to 15 digits in all.
PHONE = re.compile(r"(?<![\w+(])\(?(?:\+|00|0)\d(?:[\s.\-/()]{0,2}\d){5,16}(?![\w])")
# Without a prefix, an ordinary number looks the same as a phone number, so only these are
# taken for one: Finland's country code without the + (358 and 8-10 digits), a Finnish mobile
# number without its leading 0 (40-49 or 50, 9-10 digits; "40 123 4567", "401234567"), and any
# 6-15 digits right after a word for phone or number in the bot's languages.
PHONE_COUNTRY = re.compile(r"(?<![\w+])358(?:[ .\-]?\d){8,10}(?![\w])")
PHONE_MOBILE = re.compile(r"(?<![\w+])(?:4\d|50)(?:[ .\-]?\d){7,8}(?![\w])")
PHONE_WORD = re.compile(
    r"(?:phone|mobile|puh(?:elin)?|gsm|kännykkä|numero|nummer|telefon\w*|tel|teléfono|número"
    r"|móvil|телефон\w*|номер\w*|мобільн\w*|هاتف\w*|جوال|رقم|تلفن|شماره|موبایل|taleefan\w*"
    r"|lambar\w*|nambar\w*|电话|電話|手机|号码|號碼)"
    r"[^\d\n]{0,12}?(?P<number>\d(?:[ .\-]?\d){5,14})(?![\w])",
    re.IGNORECASE,
)
DATE = re.compile(r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}")
# Amounts written with thousands separators ("45 000 000") are numbers, not phones.
THOUSANDS = re.compile(r"\d{1,3}(?:[ .,]\d{3})+")

# Dashes and minus signs NFKC keeps apart from "-"; spaces are every Unicode space separator.
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d\u058a\u05be\u1806"
_TABLE = {ord(c): "-" for c in _DASHES}


def _normal_char(char: str) -> str:
    """One character as the patterns see it: its decimal digit, "-", " " or itself."""
    if char.isdecimal() and not char.isascii():
        return str(unicodedata.decimal(char, "")) or char
    if unicodedata.category(char) == "Zs":
        return " "
    return char.translate(_TABLE)


def normalise(text: str) -> tuple[str, list[tuple[int, int]]]:
    """The text as the patterns see it, and for each of its characters the span it came from.

    NFKC is applied per cluster (a character and its combining marks), so every character of
    the result maps back to the original text.
    """
    chars: list[str] = []
    origin: list[tuple[int, int]] = []
    i = 0
    while i < len(text):
        j = i + 1
        while j < len(text) and unicodedata.combining(text[j]):
            j += 1
        for char in unicodedata.normalize("NFKC", text[i:j]):
            for normal in _normal_char(char):
                chars.append(normal)
                origin.append((i, j))
        i = j
    return "".join(chars), origin


def _is_phone(number: str) -> bool:
    digits = sum(c.isdigit() for c in number)
    stripped = number.strip()
    return 7 <= digits <= 15 and not DATE.fullmatch(stripped)


def _iban(match: re.Match[str]) -> bool:
    return sum(c.isdigit() for c in match.group(0)[4:]) >= IBAN_MIN_DIGITS


def _spans(normal: str) -> list[tuple[int, int, str]]:
    """Spans of the normalised text to replace, and their tokens; earlier kinds win overlaps."""
    found: list[tuple[int, int, str]] = []
    taken = [False] * len(normal)

    def take(start: int, end: int, token: str) -> None:
        if not any(taken[start:end]):
            found.append((start, end, token))
            taken[start:end] = [True] * (end - start)

    for match in EMAIL.finditer(normal):
        take(match.start(), match.end(), EMAIL_TOKEN)
    for match in IBAN.finditer(normal):
        if _iban(match):
            take(match.start(), match.end(), IBAN_TOKEN)
    for match in ID_CODE.finditer(normal):
        take(match.start(), match.end(), ID_CODE_TOKEN)
    for match in PHONE.finditer(normal):
        if _is_phone(match.group(0)):
            take(match.start(), match.end(), PHONE_TOKEN)
    for pattern in (PHONE_COUNTRY, PHONE_MOBILE):
        for match in pattern.finditer(normal):
            if _is_phone(match.group(0)) and not THOUSANDS.fullmatch(match.group(0)):
                take(match.start(), match.end(), PHONE_TOKEN)
    for match in PHONE_WORD.finditer(normal):
        if _is_phone(match.group("number")):
            take(match.start("number"), match.end("number"), PHONE_TOKEN)
    return sorted(found)


def mask_text(text: str) -> str:
    """The text with identity codes, IBANs, e-mail addresses and phone numbers as tokens."""
    if not text:
        return text
    if text.isascii():  # already normal: spans are positions in the text itself (the fast path)
        normal, origin = text, None
    else:
        normal, origin = normalise(text)
    out, position = [], 0
    for start, end, token in _spans(normal):
        begin, finish = (start, end) if origin is None else (origin[start][0], origin[end - 1][1])
        if begin < position:  # two matches inside one character cluster: keep the first
            continue
        out.append(text[position:begin])
        out.append(token)
        position = finish
    out.append(text[position:])
    return "".join(out)


def mask_data(value: Any) -> Any:
    """Mask every string inside nested dicts and lists (slots, entities, metadata)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list):
        return [mask_data(v) for v in value]
    if isinstance(value, dict):
        return {k: mask_data(v) for k, v in value.items()}
    return value
