"""The simulated community of the load test: what each member does, on the fake Discord.

A ``Community`` sets a server up the way a busy one looks (a prompt of the day, poem games
under way, sprints running, a few pieces to save), then sends bursts of commands picked by
``MIX``. Each command is sent the way a person would: a game move by the member whose turn
the board shows, a word count only once the member has joined the sprint, one daily entry
per member, so that every refusal the bot gives is either "busy" or a finding.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bench.load_outcomes import OK, is_settled, settle
from tests.fakediscord import FakeChannel, FakeDiscord, InteractionHandle, StoredMessage

# Share of each command in the load (they add up to 1).
MIX: dict[str, float] = {
    "poem": 0.18,
    "story": 0.12,
    "favorites save": 0.10,
    "favorites list": 0.10,
    "poemgame add": 0.15,
    "sprint": 0.20,
    "daily submit": 0.15,
}
GAME_LINES = 30  # the most a game may have: moves beyond it start no new game
PLAYERS_PER_GAME = 3
TOPICS = ("rain on tin roofs", "a lighthouse keeper", "the last train", "autumn foxes", "salt")
TURN = re.compile(r"\*\*(?P<name>[^*]+)\*\*'s turn")
SETUP_WAIT = 300.0  # seconds a set-up step may take (a first piece with the real model)


@dataclass
class Sent:
    """One interaction the fake sent: which command, by whom, and whether it writes a piece
    (its final answer is the piece, after the acknowledgement)."""

    kind: str
    user: str
    handle: InteractionHandle
    writes: bool = False


@dataclass
class _Game:
    channel: FakeChannel
    players: list[str]
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    moves: int = 0


async def until(check: Callable[[], bool], within: float, step: float = 0.1) -> bool:
    """Poll ``check`` until it holds or ``within`` seconds pass; whether it held."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(step)
    return True


async def settled(sent: Sent, within: float) -> bool:
    """Wait for ``sent``'s final answer."""
    return await until(lambda: is_settled(sent.handle, writes=sent.writes), within)


class SetupFailed(RuntimeError):
    """The server could not be set up, so the load would measure nothing meaningful."""


class Community:
    """The members of one load level and what they have done so far."""

    def __init__(
        self,
        server: FakeDiscord,
        users: list[str],
        game_channels: list[FakeChannel],
        sprint_channels: list[FakeChannel],
        *,
        seed: int,
    ) -> None:
        self._server = server
        self._users = users
        self._rng = random.Random(seed)
        self._games = [
            _Game(channel, users[i * PLAYERS_PER_GAME : (i + 1) * PLAYERS_PER_GAME])
            for i, channel in enumerate(game_channels)
        ]
        self._sprint_channels = sprint_channels
        self._sprinting: dict[str, str] = {}  # user -> "joining" | "in"
        self._submitted: set[str] = set()
        self.sent: list[Sent] = []

    # --- set-up ----------------------------------------------------------------------------

    async def set_up(self) -> list[Sent]:
        """A prompt of the day, a few pieces to save, the games and the sprints; raises
        ``SetupFailed`` if any of it did not work."""
        steps: list[Sent] = []
        server = self._server
        daily = await self._slash(
            "daily setup",
            "mod",
            {
                "channel": server.channel,
                "time": "00:00",  # passed already today (UTC), so it is posted at once
                "timezone": "UTC",
                "source": "curated",
                "mode": "post",
            },
        )
        pieces = [
            await self._slash("poem", user, {"topic": TOPICS[i], "seed": i}, writes=True)
            for i, user in enumerate(("alice", "bob"))
        ]
        steps += [daily, *pieces]
        await self._expect_ok(steps)
        if not await until(lambda: bool(self._prompts_posted()), SETUP_WAIT):
            raise SetupFailed("the prompt of the day was never posted")
        for game in self._games:
            steps += await self._open_game(game)
        for index, channel in enumerate(self._sprint_channels):
            host = self._users[index]  # whose own sprint channel (see _sprint) this is
            start = await self._slash("sprint start", host, {"minutes": 60}, channel=channel)
            await self._expect_ok([start])
            self._sprinting[host] = "in"
            steps.append(start)
        self.sent.clear()  # the load is what comes next
        return steps

    async def _open_game(self, game: _Game) -> list[Sent]:
        host, *others = game.players
        options = {"mode": "round-robin", "lines": GAME_LINES, "turn_timeout": 600, "ai": False}
        start = await self._slash("poemgame start", host, options, channel=game.channel)
        await self._expect_ok([start])
        lobby = self._latest_with(game.channel, "inkwell:game:join:")
        if lobby is None:
            raise SetupFailed(f"no lobby in #{game.channel.name}")
        steps = [start]
        for player in others:
            join = await self._click(lobby, "join", player)
            await self._expect_ok([join])
            steps.append(join)
        begun = await self._click(lobby, "start", host)
        await self._expect_ok([begun])
        if not await until(lambda: self._turn_in(game) is not None, SETUP_WAIT):
            raise SetupFailed(f"the game in #{game.channel.name} never showed whose turn it is")
        return [*steps, begun]

    async def _expect_ok(self, steps: list[Sent]) -> None:
        for step in steps:
            if not await settled(step, SETUP_WAIT):
                raise SetupFailed(f"{step.kind} by {step.user} was never answered")
            result = settle(step.handle, writes=step.writes)
            if result.outcome != OK:
                raise SetupFailed(f"{step.kind} by {step.user}: {result.outcome}: {result.text}")

    # --- the load --------------------------------------------------------------------------

    def command(self) -> Callable[[], Awaitable[None]]:
        """One command picked by ``MIX``, ready to send."""
        kind = self._rng.choices(list(MIX), weights=list(MIX.values()))[0]
        user = self._rng.choice(self._users)
        actions: dict[str, Callable[[str], Awaitable[None]]] = {
            "poem": self._poem,
            "story": self._story,
            "favorites save": self._save,
            "favorites list": self._list,
            "poemgame add": self._move,
            "sprint": self._sprint,
            "daily submit": self._daily,
        }
        action = actions[kind]
        return lambda: action(user)

    async def _poem(self, user: str) -> None:
        topic = self._rng.choice(TOPICS)
        seed = self._rng.randrange(2**31)
        self.sent.append(await self._slash("poem", user, {"topic": topic, "seed": seed}, True))

    async def _story(self, user: str) -> None:
        options = {"premise": self._rng.choice(TOPICS), "length": "short"}
        self.sent.append(await self._slash("story", user, options, writes=True))

    async def _save(self, user: str) -> None:
        pieces = [
            m
            for m in self._server.store.messages.values()
            if not m.deleted and any(c.startswith("inkwell:save:") for c in m.custom_ids())
        ]
        piece = self._rng.choice(pieces)
        save = next(c for c in piece.custom_ids() if c.startswith("inkwell:save:"))
        handle = await self._server.click(piece, save, user=user)
        self.sent.append(Sent("favorites save", user, handle))

    async def _list(self, user: str) -> None:
        self.sent.append(await self._slash("favorites list", user))

    async def _move(self, user: str) -> None:
        """A line from the member whose turn it is, in the game that has had fewest moves;
        moves in one channel wait for each other, as a table of people does."""
        game = min(self._games, key=lambda g: g.moves)
        if game.moves >= GAME_LINES - 1:
            await self._list(user)  # every game is nearly full: someone browses instead
            return
        game.moves += 1
        async with game.lock:
            player = self._turn_in(game)
            if player is None:
                self.sent.append(await self._slash("poemgame status", user, channel=game.channel))
                return
            line = f"{self._rng.choice(TOPICS)} and line {game.moves}"
            move = await self._slash("poemgame add", player, {"line": line}, channel=game.channel)
            self.sent.append(move)
            if await settled(move, 60) and settle(move.handle, writes=False).outcome == OK:
                # The board shows the next turn before the next member may move.
                await until(lambda: self._turn_in(game) not in (None, player), 30)

    async def _sprint(self, user: str) -> None:
        """Join the sprint of the member's channel first, then send word counts."""
        channel = self._sprint_channel(user)
        state = self._sprinting.get(user)
        if state is None:
            self._sprinting[user] = "joining"
            join = await self._slash("sprint join", user, channel=channel)
            self.sent.append(join)
            ok = await settled(join, 60) and settle(join.handle, writes=False).outcome == OK
            if ok:
                self._sprinting[user] = "in"
            else:
                del self._sprinting[user]
        elif state == "joining":
            self.sent.append(await self._slash("sprint status", user, channel=channel))
        else:
            words = self._rng.randint(1, 8)  # well under the plausible words a minute
            self.sent.append(
                await self._slash("sprint wrote", user, {"words": words}, channel=channel)
            )

    async def _daily(self, user: str) -> None:
        """An entry for today's prompt (each member sends one; afterwards they read it)."""
        if user in self._submitted:
            self.sent.append(await self._slash("daily today", user))
            return
        self._submitted.add(user)
        opened = await self._slash("daily submit", user)
        self.sent.append(opened)
        if not await until(lambda: opened.handle.modal is not None, 30):
            return  # its outcome (refused, silent) is read with the others
        entry = await self._server.modal_submit(
            opened.handle, {"entry": f"A small poem by {user} about {self._rng.choice(TOPICS)}."}
        )
        self.sent.append(Sent("daily entry", user, entry))

    # --- helpers ---------------------------------------------------------------------------

    async def _slash(
        self,
        name: str,
        user: str,
        options: dict[str, object] | None = None,
        writes: bool = False,
        *,
        channel: FakeChannel | None = None,
    ) -> Sent:
        handle = await self._server.slash(name, options or {}, user=user, channel=channel)
        return Sent(name, user, handle, writes)

    async def _click(self, message: StoredMessage, action: str, user: str) -> Sent:
        prefix = f"inkwell:game:{action}:"
        custom_id = next(c for c in message.custom_ids() if c.startswith(prefix))
        handle = await self._server.click(message, custom_id, user=user)
        return Sent(f"game {action}", user, handle)

    def _sprint_channel(self, user: str) -> FakeChannel:
        """Each member sprints in one channel, the same every time."""
        return self._sprint_channels[self._users.index(user) % len(self._sprint_channels)]

    def _latest_with(self, channel: FakeChannel, prefix: str) -> StoredMessage | None:
        found = [
            m
            for m in self._server.store.in_channel(channel.id)
            if not m.ephemeral and any(c.startswith(prefix) for c in m.custom_ids())
        ]
        return found[-1] if found else None

    def _turn_in(self, game: _Game) -> str | None:
        """Whose turn the game's latest board shows (a member's name), if any."""
        board = self._latest_with(game.channel, "inkwell:game:write:")
        if board is None:
            return None
        embeds = board.embeds
        text = "\n".join(
            [board.content]
            + [f"{e.get('description', '')}\n{e.get('footer', {}).get('text', '')}" for e in embeds]
            + [f["value"] for e in embeds for f in e.get("fields", [])]
        )
        found = TURN.search(text)
        if found is None:
            return None
        by_name = {self._server.user(u).global_name: u for u in game.players}
        return by_name.get(found["name"])

    def _prompts_posted(self) -> list[StoredMessage]:
        return [
            m
            for m in self._server.store.in_channel(self._server.channel.id)
            if any(
                "Prompt of the day" in f"{e.get('title', '')} {e.get('description', '')}"
                for e in m.embeds
            )
        ]
