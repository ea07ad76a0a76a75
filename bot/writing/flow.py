"""The one write flow: a requester, a destination and a draft in; a stored piece out.

Every front end (Discord commands and buttons, the console) and every feature that writes on
its own (a game's AI turn, a prompt of the day, a sprint's opening prompt) writes through
``WriteFlow.write``. The flow checks the guild's channel rules and a person's prompt against
the guild's content filter, takes the requester's fairness slot, lets the destination
acknowledge, streams the writing to it (masked by the filter), and records the finished
piece. At shutdown it stops taking work, lets running pieces finish within a bound
and stops the rest with a message.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator

from bot.errors import GenerationFailed, InkwellError
from bot.forms import Form
from bot.generation.types import SamplingParams
from bot.safety import DEFAULT_RATING, ContentFilter, Rating, effective_rating
from bot.storage import (
    Database,
    DeletedCounts,
    GenerationRecord,
    GuildSettings,
    NewGeneration,
    StorageBusy,
    StorageFull,
)
from bot.writing import fairness
from bot.writing.destination import Destination, WriteUpdate
from bot.writing.drafts import Draft
from bot.writing.fairness import FairnessGate
from bot.writing.pieces import Piece, WritingService, WritingUpdate
from bot.writing.requester import Requester, RequesterKind, user_slot

log = logging.getLogger(__name__)

MAX_SEED = 2**53  # seeds are 0 .. 2**53 - 1 everywhere (the commands' own limit)

SHUTTING_DOWN = (
    "Inkwell is restarting right now, so I can't start a new piece. Please ask again in a minute."
)
STOPPED = "⏹ Inkwell had to restart before this piece was finished. Please ask again in a minute."
NOT_SAVED = (
    "I couldn't save this piece, so its buttons, /remix and favourites won't know it. "
    "Copy it if you want to keep it."
)
# The same, when storage says why (it is full, or another program holds it): the piece is still
# shown, since the writing is done and worth keeping, and nothing of it is stored.
NOT_SAVED_BECAUSE = (
    "I couldn't save this piece ({why}), so its buttons, /remix and favourites won't know it. "
    "Copy it if you want to keep it; new pieces are saved again once that is fixed."
)
ERASE_WHILE_WRITING = (
    "I'm still writing a piece for you. Wait until it's finished, then press the button again "
    "so it is erased too."
)


class ShuttingDown(InkwellError):
    """The bot is stopping and takes no new work."""


class PieceStopped(InkwellError):
    """Shutdown stopped a piece before it finished; its destination has said so already.
    (A timer that raises it is retried after its lease, i.e. after the restart.)"""


class ChannelNotAllowed(InkwellError):
    """The guild's admins limited Inkwell to other channels."""


class WriteFlow:
    """Writes pieces for requesters into destinations, fairly, and records them."""

    def __init__(
        self,
        writing: WritingService,
        database: Database,
        gate: FairnessGate,
        *,
        cooldown_seconds: float,
        content: ContentFilter | None = None,
    ) -> None:
        self._writing = writing
        self._content = content if content is not None else ContentFilter()
        self._database = database
        self._gate = gate
        self._cooldown = cooldown_seconds
        self._closing = False
        self._running: set[asyncio.Task[None]] = set()
        # Every write under way, from the shutdown check until its slot is given back (both
        # database round trips): shutdown waits for them, and stops their pieces if it must.
        self._writers: set[asyncio.Future[None]] = set()
        self._stopping = False  # shutdown's grace is over: pieces are being stopped
        # How often each user's data was erased, so a piece started before an erase knows,
        # when it is stored, that the words it copied from them are gone.
        self._erasures: Counter[int] = Counter()
        self._erase_hooks: list[Callable[[int], Awaitable[None]]] = []

    @property
    def writing(self) -> WritingService:
        """The writing service (model information, raw writing)."""
        return self._writing

    @property
    def closing(self) -> bool:
        """True once shutdown began: new pieces are refused."""
        return self._closing

    def guild_settings(self, guild_id: int | None) -> GuildSettings | None:
        """A guild's settings from memory: never waits on the database."""
        if guild_id is None:
            return None
        return self._database.guild_settings.cached(guild_id)

    def check_channel(self, requester: Requester) -> None:
        """Raise ``ChannelNotAllowed`` where the guild's admins don't let Inkwell write (so
        a feature that writes later, such as a game, can refuse to start there)."""
        self._check_channel(requester, self.guild_settings(requester.guild_id))

    def content_rating(self, guild_id: int | None, *, nsfw: bool) -> Rating:
        """The content rating that applies in a guild's channel (``standard`` outside guilds,
        ``off`` only in age-restricted channels)."""
        guild = self.guild_settings(guild_id)
        rating = guild.content_rating if guild is not None else DEFAULT_RATING
        return effective_rating(rating, nsfw=nsfw)

    def check_text(self, text: str, *, guild_id: int | None, nsfw: bool, what: str) -> None:
        """Raise ``ContentBlocked`` (naming the words, giving the text back) when ``text`` has
        words the guild's content filter doesn't allow there: for what people type into a
        feature (a game line, a daily entry, a sprint prompt) before any work is done."""
        guild = self.guild_settings(guild_id)
        words = guild.blocked_words if guild is not None else frozenset()
        rating = self.content_rating(guild_id, nsfw=nsfw)
        self._content.require_clean(text, rating, words, what=what)

    def masked(self, text: str, *, guild_id: int | None, nsfw: bool) -> str:
        """``text`` with what the guild's filter catches there masked: for model text shown
        outside a piece (a voice's sample poems)."""
        guild = self.guild_settings(guild_id)
        words = guild.blocked_words if guild is not None else frozenset()
        rating = self.content_rating(guild_id, nsfw=nsfw)
        return self._content.check(text, rating, words).masked()

    async def write(
        self, requester: Requester, destination: Destination, draft: Draft
    ) -> GenerationRecord | None:
        """Write ``draft`` for ``requester`` into ``destination``; returns the stored piece, or
        None when it was shown but could not be stored.

        Every refusal (the writer resting, channel, content, slot, cooldown, guild share,
        shutdown) is raised before the destination acknowledges anything, so it can still be
        answered privately.
        A person's prompt is checked against the content filter; a game's, schedule's or
        sprint's own context is not (what people put into it was checked as they did).
        Only when the database is too slow to give the slot in time is the request
        acknowledged first (the refusal then replaces the placeholder).
        """
        if self._closing:
            raise ShuttingDown(SHUTTING_DOWN)
        self._writing.require_ready()  # a resting writer refuses before anything else
        guild = self.guild_settings(requester.guild_id)
        self._check_channel(requester, guild)
        if requester.kind is RequesterKind.USER:
            spec = draft.spec
            prompt = "\n".join((spec.text, *spec.characters))
            self.check_text(prompt, guild_id=requester.guild_id, nsfw=requester.nsfw, what="prompt")
        # A cooldown paces people; a game or schedule is paced by its own rules.
        cooldown = self._cooldown_for(guild) if requester.kind is RequesterKind.USER else 0.0
        with self._tracked():
            accepted = started = False

            async def accept() -> None:
                nonlocal accepted
                if not accepted:
                    accepted = True
                    await destination.accept()

            slot = self._gate.slot(
                requester.slot_key,
                requester.guild_id,
                cooldown,
                on_slow=accept,
                patience=_patience(destination),
            )
            try:
                async with slot:
                    if self._stopping:  # shutdown is stopping pieces: don't start one now
                        raise ShuttingDown(SHUTTING_DOWN)
                    await accept()
                    stored: list[GenerationRecord | None] = []
                    # The piece runs as its own task, so shutdown can stop the piece alone: a
                    # caller that outlives it (a game's loop) carries on.
                    piece = asyncio.create_task(
                        self._deliver(requester, destination, draft, guild, stored)
                    )
                    self._running.add(piece)
                    started = True
                    return await self._await_piece(piece, destination, stored)
            except InkwellError as refusal:
                if accepted and not started:
                    # Acknowledged while the database was slow, then refused: the
                    # placeholder says why rather than waiting for ever.
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(destination.stop(refusal.user_message), 5)
                raise

    @contextlib.contextmanager
    def _tracked(self) -> Iterator[None]:
        """Count the block as work shutdown waits for."""
        writer = asyncio.get_running_loop().create_future()
        self._writers.add(writer)
        try:
            yield
        finally:
            writer.set_result(None)
            self._writers.discard(writer)

    async def _await_piece(
        self,
        piece: asyncio.Task[None],
        destination: Destination,
        stored: list[GenerationRecord | None],
    ) -> GenerationRecord | None:
        """Wait for ``piece``; a caller cancelled cancels it, shutdown's stop is told."""
        try:
            await asyncio.shield(piece)
        except asyncio.CancelledError:
            if not piece.done():  # the caller itself was cancelled: so is its piece
                piece.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await piece
                raise
            if not piece.cancelled():
                raise
            # Shutdown stopped the piece: its destination says so; nothing was stored.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(destination.stop(STOPPED), timeout=5)
            raise PieceStopped(STOPPED) from None
        finally:
            self._running.discard(piece)
        return stored[0] if stored else None

    async def _deliver(
        self,
        requester: Requester,
        destination: Destination,
        draft: Draft,
        guild: GuildSettings | None,
        stored: list[GenerationRecord | None],
    ) -> None:
        author = draft.prompt_author_id
        erased = self._erasures[author] if author is not None else 0
        started = time.time()
        updates = self._updates(requester, draft, guild, stored, (erased, started))
        # aclosing: if delivery fails midway, the generation is cancelled at once.
        async with contextlib.aclosing(updates):
            await destination.deliver(draft.spec.title(), updates)

    async def find_piece(self, generation_id: int) -> GenerationRecord | None:
        """A recorded piece, or None. Callers check who may see it (``bot.library.visibility``)."""
        return await self._database.generations.get(generation_id)

    async def erase_user(self, user_id: int) -> DeletedCounts:
        """Erase everything stored about a user while holding their slot, so no piece of
        theirs can start meanwhile or be recorded after the erase."""
        with self._tracked():
            async with self._gate.hold(user_slot(user_id), ERASE_WHILE_WRITING):
                counts = await self._database.users.delete_all(user_id)
        self._erasures[user_id] += 1
        # What features keep outside the rows just erased (a running game's seats and votes).
        for hook in list(self._erase_hooks):
            await hook(user_id)
        return counts

    def add_erase_hook(self, hook: Callable[[int], Awaitable[None]]) -> None:
        """Call ``hook(user_id)`` after each erase, for data a feature holds in its own form."""
        self._erase_hooks.append(hook)

    def remove_erase_hook(self, hook: Callable[[int], Awaitable[None]]) -> None:
        """Stop calling ``hook`` (its feature was unloaded)."""
        if hook in self._erase_hooks:
            self._erase_hooks.remove(hook)

    async def close(self, grace_seconds: float) -> None:
        """Stop taking work; let running pieces finish for up to ``grace_seconds``, then stop
        the rest (their destinations say so)."""
        self._closing = True
        writers = set(self._writers)
        if writers:
            log.info("Waiting up to %.0f s for %d piece(s) to finish", grace_seconds, len(writers))
            _, unfinished = await asyncio.wait(writers, timeout=grace_seconds)
            if unfinished:
                self._stopping = True
                running = set(self._running)
                for task in running:
                    task.cancel()
                log.warning("Stopped %d unfinished piece(s) for shutdown", len(running))
                await asyncio.wait(unfinished, timeout=10)
        await self._gate.drain()  # slots still being given back, before the database closes

    # --- inside a slot ---------------------------------------------------------------------

    async def _updates(
        self,
        requester: Requester,
        draft: Draft,
        guild: GuildSettings | None,
        stored: list[GenerationRecord | None],
        erased: tuple[int, float],
    ) -> AsyncIterator[WriteUpdate]:
        sampling = _with_guild_defaults(draft.sampling, guild)
        rating = self.content_rating(requester.guild_id, nsfw=requester.nsfw)
        words = guild.blocked_words if guild is not None else frozenset()
        voice = guild.voice_adapter if guild is not None else None
        async for update in self._filtered(draft, sampling, rating, words, voice):
            if update.piece is None:
                yield WriteUpdate(text=update.text, queue_position=update.queue_position)
                continue
            if not draft.record:
                yield WriteUpdate(text=update.piece.text, piece=update.piece)
                continue
            author = draft.prompt_author_id
            # The author of the copied words erased their data while this was written (here,
            # or through another process on the database).
            count, started = erased
            redact = author is not None and (
                self._erasures[author] != count
                or await self._database.users.erased_since(author, started)
            )
            outcome = await self._record(update.piece, requester, draft, redact)
            record = outcome if isinstance(outcome, GenerationRecord) else None
            stored.append(record)
            yield WriteUpdate(
                text=update.piece.text,
                piece=update.piece,
                record=record,
                unsaved_reason=outcome if isinstance(outcome, str) else None,
            )

    async def _filtered(
        self,
        draft: Draft,
        sampling: SamplingParams,
        rating: Rating,
        words: frozenset[str],
        voice: str | None,
    ) -> AsyncIterator[WritingUpdate]:
        """The writing, through the content filter: every preview masked; a finished piece
        the filter catches written once more with the next seed, then masked if it still is.
        No raw word ever leaves here, so no destination can show one."""
        for attempt in range(2):
            writing = self._writing.stream(draft.spec, sampling, voice)
            async with contextlib.aclosing(writing) as stream:
                async for update in stream:
                    if update.piece is None:
                        text = self._content.check(update.text, rating, words).masked()
                        yield dataclasses.replace(update, text=text)
                        continue
                    verdict = self._content.check(update.piece.text, rating, words)
                    if verdict.clean:
                        yield update
                        return
                    if attempt == 0:
                        # The next seed, so the same request still writes the same piece.
                        log.info("A finished piece was filtered; writing it again (new seed)")
                        seed = (update.piece.sampling.seed + 1) % MAX_SEED
                        sampling = dataclasses.replace(sampling, seed=seed)
                        break
                    piece = dataclasses.replace(update.piece, text=verdict.masked())
                    yield WritingUpdate(text=piece.text, piece=piece)
                    return
        raise GenerationFailed("The writer stopped without finishing; please try again.")

    async def _record(
        self, piece: Piece, requester: Requester, draft: Draft, redact_prompt: bool
    ) -> GenerationRecord | str:
        """The stored piece, or why it could not be stored (to show beneath it)."""
        spec = piece.spec
        params: dict[str, object] = {
            **piece.sampling.as_dict(),
            "length": spec.length.value,
            "characters": list(spec.characters),
            "model_tokens": piece.new_tokens,
        }
        params.pop("seed")
        user_id = requester.record_user_id
        prompt_author = draft.prompt_author_id if draft.prompt_author_id != user_id else None
        try:
            return await self._database.generations.add(
                NewGeneration(
                    user_id=user_id,
                    user_name=requester.name,
                    guild_id=requester.guild_id,
                    channel_id=requester.channel_id,
                    form=spec.form.value,
                    prompt=spec.text,
                    params=params,
                    seed=piece.sampling.seed,
                    model=piece.model,
                    text=piece.text,
                    poem_form=spec.poem_form.value if spec.form is Form.POEM else None,
                    genre=spec.genre.value if spec.form is Form.STORY else None,
                    parent_id=draft.parent_id,
                    prompt_author_id=prompt_author,
                    prompt_redacted=redact_prompt and prompt_author is not None,
                )
            )
        except (StorageFull, StorageBusy) as error:
            log.warning("Could not record a finished piece for %s: %r", requester.slot_key, error)
            return NOT_SAVED_BECAUSE.format(why=error.why)
        except Exception:
            # The writing is done and worth showing: say it wasn't saved, don't throw it away.
            log.exception("Could not record a finished piece for %s", requester.slot_key)
            return NOT_SAVED

    # --- rules -----------------------------------------------------------------------------

    def _cooldown_for(self, guild: GuildSettings | None) -> float:
        # A server may lengthen the operator's cooldown, never shorten it.
        if guild is None or guild.cooldown_seconds is None:
            return self._cooldown
        return max(self._cooldown, float(guild.cooldown_seconds))

    @staticmethod
    def _check_channel(requester: Requester, guild: GuildSettings | None) -> None:
        if guild is None or requester.channel_id is None:
            return
        if guild.allows_channel(requester.channel_id) or (
            requester.parent_channel_id is not None
            and guild.allows_channel(requester.parent_channel_id)
        ):
            return
        channels = channel_mentions(guild.allowed_channel_ids)
        raise ChannelNotAllowed(f"I only write in {channels} on this server.")


def _with_guild_defaults(sampling: SamplingParams, guild: GuildSettings | None) -> SamplingParams:
    if guild is None:
        return sampling
    defaults = {
        "temperature": guild.temperature,
        "top_p": guild.top_p,
        "top_k": guild.top_k,
        "max_new_tokens": guild.max_new_tokens,
    }
    missing = {name: value for name, value in defaults.items() if getattr(sampling, name) is None}
    return dataclasses.replace(sampling, **missing)


def channel_mentions(channel_ids: Iterable[int], limit: int = 20) -> str:
    """Channel mentions for a message, at most ``limit`` of them."""
    ids = sorted(channel_ids)
    shown = ", ".join(f"<#{c}>" for c in ids[:limit])
    more = len(ids) - limit
    return f"{shown} and {more} more" if more > 0 else shown


def _patience(destination: Destination) -> float | None:
    """How long the slot may take before the request is acknowledged first: the gate's own
    patience (None), or less for a request that reached us late (a destination that must be
    acknowledged in time says how long it has left), keeping a second to acknowledge it."""
    left = getattr(destination, "seconds_to_acknowledge", None)
    if not callable(left):
        return None
    return min(fairness.PATIENCE_SECONDS, max(left() - 1.0, 0.0))
