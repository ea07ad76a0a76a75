"""How well Inkwell hears syllables and rhymes, against the hand-labelled set in tests/data.

    python -m bench.pronunciation

Words and lines are right when the usual reading (the dictionary's first pronunciation, or the
rule-based guess for words it lacks) gives the hand count; "any reading" also accepts the other
pronunciations the dictionary lists, as the form checker does.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.forms.pronounce import in_dictionary, pronounce, rhymes, words_of  # noqa: E402

DATA = ROOT / "tests" / "data"


def rows(name: str) -> list[list[str]]:
    text = (DATA / name).read_text(encoding="utf-8")
    return [line.split(" ", 1) for line in text.splitlines() if line and not line.startswith("#")]


def main() -> None:
    started = time.perf_counter()
    words = [(word, int(count)) for word, count in rows("words.txt")]
    known = [(w, c) for w, c in words if in_dictionary(w)]
    unknown = [(w, c) for w, c in words if not in_dictionary(w)]
    lines = [(int(count), line) for count, line in rows("lines.txt")]
    pairs = [line.split() for line in (DATA / "rhymes.txt").read_text().splitlines()]

    def usual(items: list[tuple[str, int]]) -> int:
        return sum(pronounce(word).count == count for word, count in items)

    def any_reading(items: list[tuple[str, int]]) -> int:
        return sum(count in pronounce(word).syllables for word, count in items)

    def line_right(count: int, line: str, *, strict: bool) -> bool:
        said = [pronounce(word) for word in words_of(line)]
        if strict:
            return sum(p.count for p in said) == count
        low, high = sum(min(p.syllables) for p in said), sum(max(p.syllables) for p in said)
        return low <= count <= high

    table = [
        ("words", len(words), usual(words), any_reading(words)),
        ("  in CMUdict", len(known), usual(known), any_reading(known)),
        ("  not in CMUdict (rules)", len(unknown), usual(unknown), any_reading(unknown)),
        (
            "lines",
            len(lines),
            sum(line_right(c, t, strict=True) for c, t in lines),
            sum(line_right(c, t, strict=False) for c, t in lines),
        ),
    ]
    rhyme_right = sum(rhymes(a, b) == (label == "yes") for a, b, label in pairs)
    print("| set | items | usual reading right | any reading right |")
    print("|---|---|---|---|")
    for name, total, strict, loose in table:
        right, loosely = f"{strict} ({strict / total:.1%})", f"{loose} ({loose / total:.1%})"
        print(f"| {name} | {total} | {right} | {loosely} |")
    print(f"| rhyme pairs | {len(pairs)} | {rhyme_right} ({rhyme_right / len(pairs):.1%}) | |")
    print(f"\n{time.perf_counter() - started:.1f} s (dictionary load included)")
    wrong = [(w, c, pronounce(w).syllables) for w, c in words if pronounce(w).count != c]
    print("Words whose usual reading differs from the label:", wrong)


if __name__ == "__main__":
    main()
