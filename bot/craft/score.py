"""What a perplexity means, in plain words, and which words surprised the model most."""

from __future__ import annotations

from dataclasses import dataclass

from bot.generation.types import TextScore

# Perplexity bands, set from the bundled SmolLM2-135M: everyday prose scores ~20-35, a famous
# sonnet's opening ~43, a spare haiku ~800 (short lines of rare words), word salad 1,000+.
_BANDS: tuple[tuple[float, str, str], ...] = (
    (15.0, "very predictable", "the model could have finished most of it for you"),
    (40.0, "predictable", "plain, familiar phrasing"),
    (150.0, "fairly ordinary", "mostly familiar, with a few turns the model didn't expect"),
    (700.0, "unusual", "many word choices the model didn't see coming"),
    (float("inf"), "surprising", "the model found almost every word unexpected"),
)
_SURPRISING_WORDS = 3


@dataclass(frozen=True)
class SurprisingWord:
    """A word of the text and how much it surprised the model (in bits, over its tokens)."""

    word: str
    bits: float


@dataclass(frozen=True)
class ScoreReport:
    """A score explained."""

    perplexity: float
    band: str  # "very predictable" … "surprising"
    meaning: str
    model: str
    tokens: int
    surprising: tuple[SurprisingWord, ...]


def explain(score: TextScore) -> ScoreReport:
    """The plain-words reading of ``score``."""
    perplexity = score.perplexity
    # The last band has no upper end: an infinite perplexity is "surprising" too.
    band, meaning = next(
        ((name, text) for limit, name, text in _BANDS if perplexity < limit), _BANDS[-1][1:]
    )
    return ScoreReport(
        perplexity=perplexity,
        band=band,
        meaning=meaning,
        model=score.model,
        tokens=len(score.tokens),
        surprising=most_surprising(score),
    )


def most_surprising(score: TextScore, count: int = _SURPRISING_WORDS) -> tuple[SurprisingWord, ...]:
    """The ``count`` words (distinct, with letters) whose tokens the model expected least."""
    words: list[tuple[str, float]] = []
    current, nats = "", 0.0
    for token in score.tokens:
        marks_only = not any(ch.isalnum() for ch in token.text)
        starts_word = token.text[:1].isspace() or not current or not current[-1].isalnum()
        if (starts_word or marks_only) and current.strip():
            words.append((current.strip(), nats))
            current, nats = "", 0.0
        if marks_only:
            continue  # a full stop's surprise is the sentence's, not the last word's
        current += token.text
        nats -= token.logprob
    if current.strip():
        words.append((current.strip(), nats))
    best: dict[str, float] = {}
    for raw, value in words:
        word = raw.strip(".,;:!?\"'()[]{}\u201c\u201d\u2018\u2019\u2014\u2013-")
        if any(ch.isalpha() for ch in word):
            best[word] = max(best.get(word, 0.0), value)
    ranked = sorted(best.items(), key=lambda item: -item[1])[:count]
    return tuple(SurprisingWord(word, value / 0.6931471805599453) for word, value in ranked)
