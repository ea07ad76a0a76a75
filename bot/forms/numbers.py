"""Numbers spelled out in words, so "1999" and "42" can be counted like any other word."""

from __future__ import annotations

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = ((1_000_000_000, "billion"), (1_000_000, "million"), (1_000, "thousand"))
_ORDINAL_ENDINGS = ("st", "nd", "rd", "th")


def spell_number(token: str) -> list[str] | None:
    """The words a reader says for ``token`` ("1999" → nineteen ninety nine, "3rd" → third,
    "1,000" → one thousand), or None if it is not a number."""
    raw = token.replace(",", "")
    ordinal = False
    for ending in _ORDINAL_ENDINGS:
        if raw.lower().endswith(ending) and raw[: -len(ending)].isdecimal():
            raw, ordinal = raw[: -len(ending)], True
            break
    # isdecimal, not isdigit: "²" and "①" are digits that int() refuses.
    if not raw.isdecimal() or len(raw) > 12:
        return None
    value = int(raw)
    if not ordinal and len(raw) == 4 and 1100 <= value <= 2099 and value % 1000 >= 10:
        # Years are said in pairs: 1999 is "nineteen ninety-nine", 2024 "twenty twenty-four".
        words = _below_hundred(value // 100) + _year_tail(value % 100)
    else:
        words = _words(value)
    if ordinal:
        words[-1] = _ordinal(words[-1])
    return words


def _year_tail(value: int) -> list[str]:
    if value < 10:
        return ["oh", _ONES[value]]
    return _below_hundred(value)


def _words(value: int) -> list[str]:
    if value == 0:
        return ["zero"]
    words: list[str] = []
    for scale, name in _SCALES:
        if value >= scale:
            words += [*_below_thousand(value // scale), name]
            value %= scale
    if value:
        words += _below_thousand(value)
    return words


def _below_thousand(value: int) -> list[str]:
    words: list[str] = []
    if value >= 100:
        words += [_ONES[value // 100], "hundred"]
        value %= 100
    if value:
        words += _below_hundred(value)
    return words


def _below_hundred(value: int) -> list[str]:
    if value < 20:
        return [_ONES[value]]
    tens, ones = divmod(value, 10)
    return [_TENS[tens]] + ([_ONES[ones]] if ones else [])


_IRREGULAR_ORDINALS = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}


def _ordinal(word: str) -> str:
    if word in _IRREGULAR_ORDINALS:
        return _IRREGULAR_ORDINALS[word]
    if word.endswith("y"):
        return word[:-1] + "ieth"
    return word + "th"
