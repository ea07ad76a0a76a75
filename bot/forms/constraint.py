"""Keeping a poem to its form while the model writes it, token by token.

A small model cannot be asked for 5-7-5; it has to be held to it. For each row of a batch the
engine asks this constraint which of the model's likeliest next tokens keep the poem possible:
every finished word must be a common English word, a line may not run past its syllables, a
line ends only when its count is met exactly, and the last word of a rhyming line must rhyme.
Near the end of a rhyming line the next word is narrowed to words that rhyme and fill the
count, so the model chooses *which* rhyme, never whether. When none of the likeliest tokens
fits, ``rescue`` offers continuations that do, and the engine takes the one the model likes
best.

The constraint knows only text (no tokens, no torch), and works out the poem's state from the
text so far on every call, so it holds no state of its own beyond caches.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.forms.degeneracy import HANGING_WORDS
from bot.forms.line_templates import poem_lines, rhyme_partner
from bot.forms.line_words import (
    is_writable,
    last_word,
    partial_word,
    rhyme_fits,
    rhyme_list,
    rhymes_with,
    syllables_of,
    syllables_of_words,
    warm_vocabulary,
    words_in,
    words_starting,
)
from bot.forms.pronounce import pronounce
from bot.forms.shapes import FormShape, LineRule, shape_of
from bot.forms.spec import Form, PieceSpec

# What a constrained line may contain: letters and plain punctuation. No digits (their
# syllables are ambiguous), markup, colons (a chat model's "Here is a haiku:") or brackets.
# Quotes are left out too: a small model opens them and never closes them; and hyphens, with
# which it glues fragments into words ("A-ma").
_ALLOWED_CHARS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ ,.;!?'\u2019\u2014"
)
# Tidy typing: no double spaces, no space before a mark, a space after one, no runs of marks
# ("...", ",."), no doubled or stray apostrophes ("''", ".'": a small model loops on them
# once a line's count is met), no SHOUTED words, no hyphen at a line's end.
_UNTIDY = re.compile(
    r"  |\s[,.;!?]|[,.;!?][A-Za-z]|[,.;!?\-]{2}|['\u2019]{2}|[,.;!?]['\u2019]|[A-Z]{2}|[a-z][A-Z]"
)
_MARK_FIRST = re.compile(r"^\s*[,.;!?\-]")
# A rhyme group's first line must end on a word with at least this many common rhymes left
# for the lines that follow it.
_MIN_RHYMES = 6
_RESCUE_WORDS = 40
# Words no line ends on; and, for the poem's last line, words that leave it hanging.
_WEAK_ENDINGS = frozenset(
    {"the", "a", "an", "my", "your", "his", "its", "our", "their", "of", "to", "and", "or"}
)
_WEAKER_ENDINGS = (
    _WEAK_ENDINGS
    | HANGING_WORDS
    | frozenset({"i", "we", "you", "they", "he", "she", "no", "one", "some", "every", "each"})
)


@dataclass(frozen=True)
class _Slot:
    """What the line being written must do."""

    rule: LineRule
    partner: str  # the word it must rhyme with, or ""
    used: frozenset[str]  # words that end its rhyme group's lines already: no rhyme twice
    opens_rhyme: bool  # later lines must rhyme with this one
    last: bool  # the poem (or the one-line piece) ends with this line


@dataclass(frozen=True)
class _State:
    """The poem so far, as the constraint sees it."""

    slot: _Slot | None  # None: every line is written
    line: str  # the line being written, so far
    done: tuple[str, ...]  # lines already finished


class FormConstraint:
    """Holds one piece to its form; see the module doc. Safe to share across threads."""

    def __init__(self, spec: PieceSpec, shape: FormShape) -> None:
        self._spec = spec
        self._shape = shape
        self._one_line = spec.form is Form.LINE

    # --- what the engine calls ------------------------------------------------------------

    def allowed(self, text: str, candidates: Sequence[str]) -> list[bool]:
        """For each candidate continuation of ``text``, whether the poem stays possible."""
        state = self._state(text)
        return [self._keeps_form(state, candidate) for candidate in candidates]

    def may_end(self, text: str) -> bool:
        """Whether the piece may end here (an end-of-text token): its last line is whole."""
        state = self._state(text)
        if state.slot is None:
            return True
        return state.slot.last and self._line_complete(state.slot, state.line)

    def rescue(self, text: str) -> list[str]:
        """Continuations that keep the form, most common words first, for when none of the
        model's likeliest tokens does. Empty when the line cannot be saved."""
        state = self._state(text)
        slot = state.slot
        if slot is None:
            return []
        line = state.line
        if self._line_complete(slot, line):
            return ["\n"]
        partial = partial_word(line)
        done = syllables_of(line[: len(line) - len(partial)])
        room = slot.rule.target - done
        found = [
            word[len(partial) :]
            for word in self._fitting_words(slot, room, partial)
            if word.lower() != partial.lower()
        ]
        if not partial:
            spacer = "" if not line.strip() or line.endswith((" ", "\u2014")) else " "
            return [spacer + word for word in found]
        if is_writable(partial) and pronounce(partial).count < room:
            # The word written so far is whole already: the next word may follow it.
            left = room - pronounce(partial).count
            found += [" " + word for word in self._fitting_words(slot, left, "")]
        return found

    # --- the state of the poem ------------------------------------------------------------

    def _state(self, text: str) -> _State:
        lines = text.split("\n")
        done = tuple(line for line in lines[:-1] if line.strip())
        index = len(done)
        total = 1 if self._one_line else len(self._shape)
        if index >= total:
            return _State(None, lines[-1], done)
        return _State(self._slot(index, done), lines[-1], done)

    def _slot(self, index: int, done: tuple[str, ...]) -> _Slot:
        spec = self._spec
        if self._one_line:
            number = spec.line_number
            partner = rhyme_partner(spec).lower()
            before = poem_lines(spec.text)
            # A game may show only the recent lines; line numbers index the whole poem.
            whole = len(before) >= number
            group = [before[i] for i in self._shape.rhymes_with(number) if whole]
            return _Slot(
                rule=self._shape.rule(number),
                partner=partner,
                used=frozenset({partner, *(last_word(line) for line in group)}),
                opens_rhyme=False,
                last=True,
            )
        rule = self._shape.rule(index)
        partners = self._shape.rhymes_with(index)
        partner = last_word(done[partners[0]]) if partners else ""
        later = any(
            other.rhyme == rule.rhyme for other in self._shape.lines[index + 1 :] if rule.rhyme
        )
        return _Slot(
            rule=rule,
            partner=partner,
            used=frozenset(last_word(done[i]) for i in partners),
            opens_rhyme=bool(rule.rhyme) and not partners and later,
            last=index == len(self._shape) - 1,
        )

    # --- the rules ------------------------------------------------------------------------

    def _keeps_form(self, state: _State, candidate: str) -> bool:
        slot = state.slot
        if slot is None or not candidate:
            return False
        head, newline, rest = candidate.partition("\n")
        if not all(ch in _ALLOWED_CHARS for ch in head):
            return False
        line = state.line + head
        if _UNTIDY.search(line[max(0, len(state.line) - 2) :]) or _MARK_FIRST.match(line):
            return False
        if newline:
            # A line break ends the line. No blank line may follow in the same token: the
            # cleanup would take a first line standing alone for a title.
            return not rest.strip(" \t") and self._line_complete(slot, line)
        return self._line_possible(slot, line)

    def _line_complete(self, slot: _Slot, line: str) -> bool:
        if line.rstrip().endswith(("-", "\u2014", "\u2013")):
            return False
        if slot.last and line.rstrip().endswith((",", ";")):
            return False
        words = words_in(line)
        if not words or not all(is_writable(word) for word in words):
            return False
        if syllables_of_words(words) != slot.rule.target:
            return False
        return self._good_ending(slot, words[-1])

    def _line_possible(self, slot: _Slot, line: str) -> bool:
        """Whether ``line`` (not yet ended) can still become a line that keeps the slot."""
        partial = partial_word(line)
        finished = words_in(line[: len(line) - len(partial)])
        if not all(is_writable(word) for word in finished):
            return False
        done = syllables_of_words(finished)
        target = slot.rule.target
        if done > target:
            return False
        if done == target:
            # The count is met: only punctuation may come before the line break, and the
            # line must end well; the poem's last line not on a comma.
            if slot.last and line.rstrip().endswith((",", ";", "-", "\u2014", "\u2013")):
                return False
            return not partial and bool(finished) and self._good_ending(slot, finished[-1])
        room = target - done
        if partial:
            return bool(self._fitting_words(slot, room, partial, limit=1, steered=True))
        # A word just finished: what is left must still hold a rhyme.
        return room >= 1 and (not slot.partner or rhyme_fits(slot.partner, room))

    def _good_ending(self, slot: _Slot, word: str) -> bool:
        word = word.lower()
        if word in _WEAK_ENDINGS or (slot.last and word in _WEAKER_ENDINGS):
            return False  # "In the heart of the" is no line
        if slot.partner:
            return word not in slot.used and rhymes_with(word, slot.partner)
        if slot.opens_rhyme:
            return len(rhyme_list(word)) >= _MIN_RHYMES
        return True

    def _fitting_words(
        self,
        slot: _Slot,
        room: int,
        partial: str,
        limit: int = _RESCUE_WORDS,
        *,
        steered: bool = False,
    ) -> list[str]:
        """Common words beginning with ``partial`` that fit in ``room`` syllables: a final
        word (exactly ``room``, ending the line well) or one that leaves room for a rhyme.

        ``steered``: the model is choosing its next token freely; a final word must then
        already have its first three letters, since " le" may mean "learn", which can't end
        here, and "lee" would be a guess. A rescue takes any word the prefix can become."""
        found: list[str] = []
        lower = partial.lower()
        for word in words_starting(lower):
            count = pronounce(word).count
            if count > room:
                continue
            if count == room:
                if not self._good_ending(slot, word):
                    continue
                if steered and 0 < len(lower) < 3 and word != lower:
                    continue
            elif slot.partner and not rhyme_fits(slot.partner, room - count):
                continue  # what is left could not hold a rhyme
            found.append(partial + word[len(lower) :])
            if len(found) >= limit:
                break
        if slot.partner and len(found) < limit and room <= 4:
            # The rhyme itself may be rarer than the vocabulary: offer it by name.
            for rhyme in rhyme_list(slot.partner):
                word = rhyme.word
                if steered and 0 < len(lower) < 3:
                    break
                fits = pronounce(word).count == room and self._good_ending(slot, word)
                if word.startswith(lower) and fits:
                    candidate = partial + word[len(lower) :]
                    if candidate not in found:
                        found.append(candidate)
                        if len(found) >= limit:
                            break
        return found


def warm_up() -> None:
    """Load the dictionary, word frequencies, vocabulary and rhyme index now (~3 s, once),
    so the first constrained poem doesn't stall the batch it joins. Call it off the event
    loop."""
    warm_vocabulary()
    rhyme_list("day")


def constraint_for(spec: PieceSpec) -> FormConstraint | None:
    """The constraint that keeps ``spec`` to its form, or None for pieces without one (free
    verse, prose, titles)."""
    if spec.form not in (Form.POEM, Form.LINE):
        return None
    shape = shape_of(spec.poem_form)
    return None if shape is None else FormConstraint(spec, shape)
