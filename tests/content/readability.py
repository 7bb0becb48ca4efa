"""Flesch-Douma reading ease for Dutch text, as the content issue defines it.

FD = 206.835 - 0.93 x (words / sentences) - 77 x (syllables / words). Syllables are Dutch vowel
nuclei: a vowel letter, or one of the digraphs/trigraphs below, counts once; a vowel with a
diaeresis (ë, ï, ...) always starts a new nucleus. Numbers count as they are spoken
("2024" = tweeduizendvierentwintig, "30%" = dertig procent, "€1.350" = duizenddriehonderdvijftig
euro). About 60 and higher is B1 (plain language).
"""

from __future__ import annotations

import re
import unicodedata

TRIGRAPHS = ("aai", "ooi", "oei", "eeu", "ieu")
DIGRAPHS = ("aa", "ee", "oo", "uu", "ie", "oe", "ou", "au", "eu", "ui", "ei", "ij", "ai")
VOWELS = set("aeiouyáéíóúàèìòùâêîôû")
DIAERESIS = set("äëïöüÿ")

_UNITS = [
    "nul",
    "een",
    "twee",
    "drie",
    "vier",
    "vijf",
    "zes",
    "zeven",
    "acht",
    "negen",
    "tien",
    "elf",
    "twaalf",
    "dertien",
    "veertien",
    "vijftien",
    "zestien",
    "zeventien",
    "achttien",
    "negentien",
]
_TENS = [
    "_",
    "_",
    "twintig",
    "dertig",
    "veertig",
    "vijftig",
    "zestig",
    "zeventig",
    "tachtig",
    "negentig",
]

# A word: letters (with inner hyphens/apostrophes) or a number (with thousands dots / decimals),
# optionally with a euro sign before or a percent sign after.
_TOKEN = re.compile(r"€?\d+(?:[.,]\d+)*%?|[^\W\d_]+(?:['’\-][^\W\d_]+)*")
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")


def dutch_number(n: int) -> str:
    """A whole number as spoken Dutch, written as one word (0 to 999 999)."""
    if n < 20:
        return _UNITS[n]
    if n < 100:
        tens, unit = divmod(n, 10)
        if not unit:
            return _TENS[tens]
        joiner = "ën" if _UNITS[unit].endswith("e") else "en"
        return _UNITS[unit] + joiner + _TENS[tens]
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        head = ("" if hundreds == 1 else _UNITS[hundreds]) + "honderd"
        return head + (dutch_number(rest) if rest else "")
    thousands, rest = divmod(n, 1000)
    head = ("" if thousands == 1 else dutch_number(thousands)) + "duizend"
    return head + (dutch_number(rest) if rest else "")


def spoken(token: str) -> str:
    """A token as it is spoken: numbers, "€" and "%" written out."""
    if not any(ch.isdigit() for ch in token):
        return token
    euro, percent = token.startswith("€"), token.endswith("%")
    number = token.strip("€%")
    words = []
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+", number):  # 1.350: thousands separator
        words.append(dutch_number(int(number.replace(".", ""))))
    else:  # 4.0 or 2,5: a decimal, spoken digit by digit after "komma"
        whole, _, fraction = number.replace(",", ".").partition(".")
        words.append(dutch_number(int(whole) % 1_000_000))
        if fraction:
            words += ["komma", *(_UNITS[int(d)] for d in fraction if d.isdigit())]
    if percent:
        words.append("procent")
    if euro:
        words.append("euro")
    return " ".join(words)


def syllables(word: str) -> int:
    """Dutch vowel nuclei in one word (at least 1 for a word with letters)."""
    word = word.lower()
    count, i = 0, 0
    while i < len(word):
        ch = word[i]
        if ch in DIAERESIS:
            count, i = count + 1, i + 1
            continue
        for group in (*TRIGRAPHS, *DIGRAPHS):
            if word.startswith(group, i):
                count, i = count + 1, i + len(group)
                break
        else:
            if ch in VOWELS:
                count += 1
            i += 1
    return max(count, 1)


def words_of(text: str) -> list[str]:
    return _TOKEN.findall(unicodedata.normalize("NFC", text))


def token_syllables(token: str) -> int:
    return sum(syllables(part) for part in spoken(token).split())


def sentences_of(text: str) -> int:
    return max(len(_SENTENCE_END.findall(text.strip() + " ")), 1)


def flesch_douma(text: str) -> float:
    words = words_of(text)
    if not words:
        return 0.0
    total_syllables = sum(token_syllables(word) for word in words)
    return 206.835 - 0.93 * (len(words) / sentences_of(text)) - 77 * (total_syllables / len(words))
