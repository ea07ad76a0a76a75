"""What became of each interaction of the load test, read from the fake Discord's records.

An interaction is *settled* once its final answer is there; its outcome is one of:

* ``ok``: a piece, or the answer the command gives when it works (a modal counts);
* ``busy``: a refusal that says "later" (queue full, guild share, cooldown, still writing,
  database busy): the way Inkwell is meant to degrade;
* ``limited``: the per-minute command limits (``[limits]``) said "try again in N s": expected
  too, once a level sends more than they allow;
* ``refused``: any other refusal with a reason (not your turn, already submitted): the load
  test never asks for one, so each is a finding;
* ``error``: the apology for a bug;
* ``silence``: no acknowledgement, or no final answer within the wait.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cogs.errors import APOLOGY

if TYPE_CHECKING:
    from tests.fakediscord import InteractionHandle

OK, BUSY, LIMITED = "ok", "busy", "limited"
REFUSED, ERROR, SILENCE = "refused", "error", "silence"
OUTCOMES = (OK, BUSY, LIMITED, REFUSED, ERROR, SILENCE)
DEFER_LIMIT = 3.0  # Discord drops an interaction not acknowledged within 3 s

REFUSAL_MARK = "⚠️"  # cogs.errors.report_error starts every refusal with it
PIECE_MARK = "Written by AI"  # the attribution line under every piece
STOPPED_MARK = "⏹"  # a piece stopped by a restart
LOADING = 1 << 7  # Discord's "thinking…" flag
MODAL = 9
# Fragments of every refusal that means "try again later" (bot.errors.ServiceBusy,
# bot.writing.fairness, bot.storage's busy database).
BUSY_TEXTS = (
    "busy writing for others",
    "pieces being written",
    "still writing your previous piece",
    "before asking again",
    "database is busy",
    "database was busy",
)
# bot.safety.admission's answers past the commands-per-minute limits.
LIMIT_TEXTS = ("You're going a little fast", "This server is sending me a lot")


@dataclass
class Settled:
    """One interaction's outcome and timings (seconds from when the fake sent it)."""

    outcome: str
    text: str
    defer_s: float | None  # when its first callback arrived (accepted or not)
    final_s: float | None  # when the last answer request arrived
    callbacks: int  # callbacks sent (a retry after Discord dropped the first counts too)
    answered: int  # callbacks Discord took, or refused as "already acknowledged": 1 is right


def answers(handle: InteractionHandle) -> list[str]:
    """The texts the user has been shown so far (callback message, @original, followups)."""
    texts: list[str] = []
    callback = handle.callback()
    if callback is not None and callback.json and callback.json.get("type") == 4:
        texts.append(_text_of(callback.json.get("data") or {}))
    original = handle.final_message()
    if original is not None and not original.flags & LOADING:
        texts.append(_text_of(original.payload))
    texts += [_text_of(m.payload) for m in handle.followups()]
    return [t for t in texts if t]


def is_settled(handle: InteractionHandle, *, writes: bool) -> bool:
    """Whether the final answer is in: for a piece, the piece or a refusal; else any answer."""
    callback = handle.callback()
    if callback is None or callback.status is None:
        return False
    if callback.status != 200:
        return True  # refused by Discord (late, or acknowledged twice): nothing more comes
    if handle.callback_type == MODAL:
        return True
    texts = answers(handle)
    if not writes:
        return bool(texts)
    return any(t.startswith((REFUSAL_MARK, STOPPED_MARK)) or PIECE_MARK in t for t in texts)


def settle(handle: InteractionHandle, *, writes: bool) -> Settled:
    """Classify ``handle`` as it stands now (call it once nothing more is coming)."""
    responses = handle.responses()
    callbacks = [r for r in responses if r.path.endswith("/callback")]
    defer_s = callbacks[0].timestamp - handle.dispatched_at if callbacks else None
    done = [r for r in responses if r.status is not None and 200 <= r.status < 300]
    final_s = max(r.timestamp for r in done) - handle.dispatched_at if done else None
    texts = answers(handle)
    accepted = bool(callbacks) and callbacks[0].status == 200
    if not accepted or not is_settled(handle, writes=writes):
        outcome = SILENCE
    elif handle.callback_type == MODAL:
        outcome = OK
    else:
        outcome = classify(texts)
    answered = sum(1 for r in callbacks if r.status in (200, 400))
    text = texts[-1] if texts else ""
    return Settled(outcome, text, defer_s, final_s, len(callbacks), answered)


def classify(texts: list[str]) -> str:
    """The outcome that a settled interaction's answers show."""
    refusals = [t for t in texts if t.startswith(REFUSAL_MARK)]
    if not refusals:
        return OK
    last = refusals[-1]
    if APOLOGY in last:
        return ERROR
    if any(fragment in last for fragment in BUSY_TEXTS):
        return BUSY
    if any(fragment in last for fragment in LIMIT_TEXTS):
        return LIMITED
    return REFUSED


def _text_of(data: dict[str, object]) -> str:
    """A message's content, else its first embed's title and description."""
    content = str(data.get("content") or "")
    if content:
        return content
    embeds = data.get("embeds")
    if isinstance(embeds, list) and embeds and isinstance(embeds[0], dict):
        first = embeds[0]
        return f"{first.get('title') or ''}\n{first.get('description') or ''}".strip()
    return ""
