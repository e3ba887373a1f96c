"""Regular inflections of country names and demonyms, per language, for actions/residence.py.

People write "Kazakstanista", "из Казахстана", "İtalya'dan", "mexicana", "سورية", "意大利人":
the data file (knowledge/countries.yaml) lists each name and demonym once, and these rules
derive the forms a sentence uses. Only regular patterns live here; irregular forms are listed
in actions/residence_cues.yaml (`irregular`) and replace the rule for that name.

Every function returns forms per placeholder of the cue templates:
  name     the name as written after a preposition (from Italy, från Italien, aus Italien)
  from     the form that by itself means "from there" (Italiasta, из Италии, İtalya'dan)
  of       the form after "citizen" (Italian kansalainen, гражданин Италии)
  demonym  the person word(s) (Italian, italialainen, italiana, итальянец)
  as       Finnish essive, "as an Italian" (italialaisena)
"""

from __future__ import annotations

import re
from collections.abc import Callable

Forms = dict[str, list[str]]
Irregular = dict[str, dict[str, list[str]]]  # placeholder -> name or demonym -> forms

FI_BACK = set("aou")
FI_GRADATION = (("kk", "k"), ("pp", "p"), ("tt", "t"))


def _fi_back(word: str) -> bool:
    """Finnish vowel harmony of the last part of a compound: back (a, o, u) or front."""
    return bool(FI_BACK & set(word.lower().replace("-", " ").split()[-1]))


def _fi_weak(stem: str) -> str:
    """Weak grade of the last syllable for the cases that need it (Turkki -> Turki-sta)."""
    for strong, weak in FI_GRADATION:
        if re.search(f"{strong}[aeiouyäö]$", stem):
            return stem[: -len(strong) - 1] + weak + stem[-1]
    return stem


def finnish(names: list[str], demonyms: list[str], irregular: Irregular) -> Forms:
    """Elative and genitive of the names, -lainen demonyms in the cases people use."""
    out: Forms = {"name": list(names), "from": [], "of": [], "demonym": [], "as": []}
    for name in names:
        a = "a" if _fi_back(name) else "ä"
        consonant = name[-1].lower() not in "aeiouyäö"
        weak = name + "i" if consonant else _fi_weak(name)
        for case, ending in (("from", f"st{a}"), ("of", "n")):
            listed = irregular.get(case, {}).get(name)
            out[case] += listed or [weak + ending]
        if " " in name:
            continue  # "Yhdistyneet arabiemiirikunnat": no derived demonym
        listed = irregular.get("demonym", {}).get(name)
        stem = (name + "i" if consonant else name).lower()
        out["demonym"] += listed or [stem + ("lainen" if a == "a" else "läinen")]
    for demonym in [*demonyms, *out["demonym"]]:
        forms = [demonym, demonym.replace("-", "")] if "-" in demonym else [demonym]
        for form in forms:
            if not form.endswith("nen"):
                out["demonym"].append(form)
                continue
            a = "a" if _fi_back(form) else "ä"
            base = form[:-3]
            out["demonym"] += [form, base + "set", f"{base}si{a}"]
            out["as"] += [f"{base}sen{a}", f"{base}sin{a}"]
    return out


def _slavic_genitive(name: str, ukrainian: bool) -> list[str]:
    """Genitive singular of a one-word country name (Казахстан -> Казахстана / Казахстану)."""
    if " " in name:
        return []
    if name.endswith(("ия", "ія")):
        return [name[:-1] + ("ї" if ukrainian else "и")]
    if name.endswith("я"):
        return [name[:-1] + ("ї" if ukrainian else "и")]
    if name.endswith("а"):
        if ukrainian:  # Україна -> України, Польща -> Польщі
            return [name[:-1] + ("і" if name[-2:-1] in "жчшщ" else "и")]
        return [name[:-1] + ("и" if name[-2:-1] in "гкхжшщч" else "ы")]
    if name.endswith("й"):
        return [name[:-1] + ("ю" if ukrainian else "я")]
    if name.endswith("ь"):
        return [name[:-1] + ("ю" if ukrainian else "я")]
    if name[-1] in "оеиуюэіє":
        return [name]  # indeclinable: Конго, Чили, Перу
    return [name + "у", name + "а"] if ukrainian else [name + "а"]


def _slavic(ukrainian: bool) -> Callable[[list[str], list[str], Irregular], Forms]:
    def inflect(names: list[str], demonyms: list[str], irregular: Irregular) -> Forms:
        genitives: list[str] = []
        for name in names:
            genitives += irregular.get("of", {}).get(name) or _slavic_genitive(name, ukrainian)
        return {"name": list(names), "from": genitives, "of": genitives, "demonym": demonyms}

    return inflect


def estonian(names: list[str], demonyms: list[str], irregular: Irregular) -> Forms:
    """Elative -st (Itaaliast), ablative -lt for the -maa names (Saksamaalt), genitive."""
    out: Forms = {"name": list(names), "from": [], "of": [], "demonym": list(demonyms)}
    for name in names:
        consonant = name[-1].lower() not in "aeiouõäöü"
        genitive = name + "i" if consonant else name
        out["of"] += irregular.get("of", {}).get(name) or [genitive]
        ending = "lt" if name.lower().endswith("maa") else "st"
        out["from"] += irregular.get("from", {}).get(name) or [genitive + ending]
    return out


TR_BACK = set("aıou")
TR_VOICELESS = set("çfhkpsşt")


def _tr_last_vowel(word: str) -> str:
    vowels = [c for c in word.lower() if c in "aeıioöuü"]
    return vowels[-1] if vowels else "e"


def turkish(names: list[str], demonyms: list[str], irregular: Irregular) -> Forms:
    """Ablative with or without apostrophe (İtalya'dan, Irak'tan), -lı demonyms (Meksikalı)."""
    out: Forms = {"name": list(names), "from": [], "of": list(names), "demonym": list(demonyms)}
    for name in names:
        vowel = _tr_last_vowel(name)
        back = vowel in TR_BACK
        d = "t" if name[-1].lower() in TR_VOICELESS else "d"
        suffix = d + ("an" if back else "en")
        out["from"] += [f"{name}'{suffix}", name + suffix]
        if " " not in name:
            li = {"a": "lı", "ı": "lı", "o": "lu", "u": "lu", "ö": "lü", "ü": "lü"}.get(vowel, "li")
            out["demonym"] += irregular.get("demonym", {}).get(name) or [name + li]
    return out


def arabic(names: list[str], demonyms: list[str], irregular: Irregular) -> Forms:
    """Nisba adjectives: العراق -> عراقي / عراقية, سوريا -> سوري / سورية."""
    out: Forms = {"name": list(names), "from": list(names), "of": list(names), "demonym": []}
    derived = []
    for name in names:
        if " " in name:
            continue
        stem = name[2:] if name.startswith("ال") else name
        stem = re.sub("(يا|ا|ة)$", "", stem)
        derived.append(stem + "ي")
    for masculine in [*demonyms, *derived]:
        out["demonym"] += [masculine, masculine + "ة", masculine + "ون", masculine + "ين"]
    return out


def persian(names: list[str], demonyms: list[str], irregular: Irregular) -> Forms:
    """Demonym = name + ی (ایرانی, افغانستانی; ایتالیایی after a vowel)."""
    out: Forms = {"name": list(names), "from": list(names), "of": list(names)}
    derived = []
    for name in names:
        if " " in name:
            continue
        if name.endswith(("ا", "و")):
            derived.append(name + "یی")
        elif name.endswith("ه"):
            derived.append(name + "\u200cای")
        else:
            derived.append(name + "ی")
    out["demonym"] = [*demonyms, *derived]
    return out


def chinese(names: list[str], demonyms: list[str], irregular: Irregular) -> Forms:
    """Demonym = name + 人 (意大利人)."""
    return {
        "name": list(names),
        "from": list(names),
        "of": list(names),
        "demonym": [*demonyms, *(name + "人" for name in names)],
    }


def _gendered(masculine: str, rules: tuple[tuple[str, tuple[str, ...]], ...]) -> list[str]:
    """The masculine and the forms its ending rule derives (mexicano -> mexicana, mexicanos)."""
    lower = masculine.lower()
    for ending, replacements in rules:
        if lower.endswith(ending):
            stem = masculine[: len(masculine) - len(ending)]
            return [masculine, *(stem + r for r in replacements)]
    return [masculine]


ES_RULES = (
    ("o", ("o", "a", "os", "as")),
    ("és", ("esa", "eses", "esas")),
    ("án", ("ana", "anes", "anas")),
    ("ol", ("ola", "oles", "olas")),
    ("í", ("íes", "ís")),
    ("ú", ("úes", "ús")),
    ("e", ("es",)),
    ("a", ("as",)),
)
FR_RULES = (
    ("ien", ("ienne", "iens", "iennes")),
    ("ain", ("aine", "ains", "aines")),
    ("ais", ("aise", "aises")),
    ("ois", ("oise", "oises")),
    ("on", ("onne", "ons", "onnes", "one", "ones")),
    ("an", ("ane", "ans", "anes")),
    ("in", ("ine", "ins", "ines")),
    ("e", ("es",)),
    ("", ("e", "s", "es")),
)
DE_RULES = (
    ("isch", ("ische", "ischer", "ischen")),
    ("er", ("erin", "erinnen")),
    ("e", ("in", "en", "innen")),
    ("", ("in", "en", "innen")),
)
EN_NO_PLURAL = ("s", "sh", "ch", "ese", "x")


def english(names: list[str], demonyms: list[str], irregular: Irregular) -> Forms:
    """Demonyms with their plurals (Italians, Frenchmen; not Swiss, Chinese)."""
    forms = []
    for demonym in demonyms:
        forms.append(demonym)
        if demonym.endswith("man"):
            forms.append(demonym[:-3] + "men")
        elif not demonym.lower().endswith(EN_NO_PLURAL):
            forms.append(demonym + "s")
    return {"name": list(names), "from": list(names), "of": list(names), "demonym": forms}


def _by_rules(rules: tuple[tuple[str, tuple[str, ...]], ...]) -> Callable[..., Forms]:
    def inflect(names: list[str], demonyms: list[str], irregular: Irregular) -> Forms:
        forms = [form for demonym in demonyms for form in _gendered(demonym, rules)]
        return {"name": list(names), "from": list(names), "of": list(names), "demonym": forms}

    return inflect


def plain(names: list[str], demonyms: list[str], irregular: Irregular) -> Forms:
    """Languages whose forms the templates handle with separate words (sv, so)."""
    return {"name": list(names), "from": list(names), "of": list(names), "demonym": demonyms}


INFLECTORS: dict[str, Callable[[list[str], list[str], Irregular], Forms]] = {
    "en": english,
    "fi": finnish,
    "sv": plain,
    "ru": _slavic(ukrainian=False),
    "uk": _slavic(ukrainian=True),
    "et": estonian,
    "tr": turkish,
    "ar": arabic,
    "fa": persian,
    "zh": chinese,
    "so": plain,
    "es": _by_rules(ES_RULES),
    "fr": _by_rules(FR_RULES),
    "de": _by_rules(DE_RULES),
}


def inflect(language: str, names: list[str], demonyms: list[str], irregular: Irregular) -> Forms:
    """All forms of one country in one language, per template placeholder."""
    return INFLECTORS[language](names, demonyms, irregular)
