"""Masking after Unicode normalisation: the forms people really type, in the bot's languages.

Each row is (language, text, masked). The texts use the characters a keyboard or autocorrect of
that language produces: en dashes, no-break spaces, Arabic-Indic and Persian digits, full-width
digits, IDN e-mail addresses.
"""

from __future__ import annotations

import pytest

from console.masking import mask_data, mask_text, normalise

MASKED = [
    ("en", "My identity code is 131052–308T, thanks", "My identity code is <ID_CODE>, thanks"),
    ("en", "hetu 131052 - 308T", "hetu <ID_CODE>"),
    ("en", "write to jyrki.mäki@esimerkki.fi", "write to <EMAIL>"),
    (
        "fi",
        "Henkilötunnus 010190 123A ja tili FI21 1234 5600 0007 85",
        "Henkilötunnus <ID_CODE> ja tili <IBAN>",
    ),
    ("fi", "soita 40 123 4567 tai 358401234567", "soita <PHONE> tai <PHONE>"),
    ("fi", "tilinumero fi2112345600000785", "tilinumero <IBAN>"),
    (
        "sv",
        "Mitt personnummer är 131052\u2011308T och nummer 401234567",
        "Mitt personnummer är <ID_CODE> och nummer <PHONE>",
    ),
    ("sv", "Ring\u00a0+46\u00a070\u00a0123\u00a045\u00a067", "Ring\u00a0<PHONE>"),
    (
        "ru",
        "Мой телефон 9161234567, почта иван.петров@почта.рф",
        "Мой телефон <PHONE>, почта <EMAIL>",
    ),
    ("ru", "личный код 131052\u2212308T", "личный код <ID_CODE>"),
    (
        "uk",
        "Мій номер 358 40 123 4567, IBAN UA21 3223 1300 0002 6007 2335 6600 1",
        "Мій номер <PHONE>, IBAN <IBAN>",
    ),
    ("ar", "رقم هاتفي ٠٤٠١٢٣٤٥٦٧ شكرا", "رقم هاتفي <PHONE> شكرا"),
    ("ar", "رقم الهوية ١٣١٠٥٢-٣٠٨T", "رقم الهوية <ID_CODE>"),
    ("fa", "شماره من ۰۴۰ ۱۲۳ ۴۵۶۷ است", "شماره من <PHONE> است"),
    ("fa", "کد ملی فنلاند ۱۳۱۰۵۲–۳۰۸T", "کد ملی فنلاند <ID_CODE>"),
    (
        "so",
        "Taleefankaygu waa 401234567, emailkuna waa cali.xasan@example.so",
        "Taleefankaygu waa <PHONE>, emailkuna waa <EMAIL>",
    ),
    ("zh", "我的电话是４０１２３４５６７", "我的电话是<PHONE>"),
    ("zh", "邮箱 张伟@例子.中国 身份证号 131052-308T", "邮箱 <EMAIL> 身份证号 <ID_CODE>"),
    (
        "es",
        "Mi IBAN es ES91 2100 0418 4502 0005 1332 y mi teléfono 612 345 678",
        "Mi IBAN es <IBAN> y mi teléfono <PHONE>",
    ),
    ("es", "correo: josé.garcía@ejemplo.es", "correo: <EMAIL>"),
    ("et", "Minu telefon on 5123 4567", "Minu telefon on <PHONE>"),
]

KEPT = [
    ("en", "It costs 45 000 000 euros in total"),
    ("en", "I moved here in 2024 with 3 kids, case 123456789"),
    ("en", "fi12 what does this mean for me"),
    ("fi", "Asun osoitteessa Mannerheimintie 12, 00100 Helsinki"),
    ("fi", "Vuokra on 1 200 euroa ja takuu 2400 euroa, päätös 12.03.2024"),
    ("sv", "Blankett SV 12 och rum 0401, 3 barn"),
    ("ru", "Я живу здесь 3 года, квартира 45"),
    ("uk", "Мені 34 роки, у мене 2 дитини"),
    ("ar", "لدي ٣ أطفال وعمري ٣٤ سنة"),
    ("fa", "من ۳ فرزند دارم و ۳۴ سال دارم"),
    ("so", "Waxaan joogay 2 sano, lambarka 12"),
    ("zh", "我在芬兰住了３年"),
    ("es", "Pagué 1.200 euros el 12/03/2024"),
    ("en", "see https://www.vero.fi/en/individuals/ and form 5010e"),
]


@pytest.mark.parametrize(("language", "text", "masked"), MASKED)
def test_personal_data_is_masked_in_every_language(language, text, masked):
    assert mask_text(text) == masked, language


@pytest.mark.parametrize(("language", "text"), KEPT)
def test_ordinary_numbers_stay_as_typed(language, text):
    assert mask_text(text) == text, language


def test_the_tables_cover_ten_languages():
    assert len({row[0] for row in MASKED}) >= 10 and len({row[0] for row in KEPT}) >= 10


def test_normalisation_maps_every_character_back_to_the_original():
    text = "a\u00a0٣–e\u0301x４"
    normal, origin = normalise(text)
    assert normal == "a 3-éx4"
    assert [text[s:e] for s, e in origin] == ["a", "\u00a0", "٣", "–", "e\u0301", "x", "４"]


def test_mask_data_masks_nested_foreign_digits():
    data = {"slots": {"phone": "٠٤٠١٢٣٤٥٦٧"}, "list": ["+358\u00a040\u00a01234567", 3]}
    assert mask_data(data) == {"slots": {"phone": "<PHONE>"}, "list": ["<PHONE>", 3]}


def test_ascii_text_is_masked_like_its_unicode_forms():
    """ASCII text skips the character map (the fast path); it must mask the same spans."""
    checked = 0
    for _, text, masked in MASKED:
        normal = normalise(text)[0]
        if normal.isascii() and not text.isascii():
            assert mask_text(normal) == normalise(masked)[0], text
            checked += 1
    assert checked >= 2
