"""Load test: a real ``python -m bot run`` process under bursts of slash commands on the fake
Discord, at 1x, 2x and 4x of 300 commands from 60 members.

    python -m bench.load --model tiny --quick   # ~1 min: 1x at a fifth of the size, tiny model
    python -m bench.load --model tiny           # ~4 min: 1x, 2x, 4x, tiny random GPT-2
    python -m bench.load                        # the real one: the bundled SmolLM2

The bot runs in its own process (its RSS is its own, and the fake Discord and the simulated
members do not share its event loop), with the default configuration: 10 s cooldown, 8
pieces per guild, a queue of 32. Each level starts a fresh process, database and fake.
Commands mix generation, favourites, game moves, sprint counts and daily entries
(``bench.load_traffic``). Every interaction must be acknowledged within 3 s and answered
exactly once, with no silence, no apology, and no "heartbeat blocked" warning from
discord.py; "busy" answers (queue full, cooldown, still writing) are how it may degrade.
Prints a markdown table; exit code 1 if a check failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.load_bot import LAG_MARK
from bench.load_outcomes import DEFER_LIMIT, OUTCOMES, SILENCE, Settled, is_settled, settle
from bench.load_traffic import Community, Sent, until
from tests.fakediscord import FakeDiscord

ROOT = Path(__file__).resolve().parent.parent
BASE_COMMANDS, BASE_USERS = 300, 60
HEARTBEAT_WARNINGS = ("heartbeat blocked", "Can't keep up")
BOT_TOKEN = "bench-load-token"


@dataclass
class Shape:
    """One load level: how many commands from how many members, in how many bursts."""

    level: float
    commands: int
    users: int
    bursts: int = 10
    gap: float = 2.0  # seconds from one burst's start to the next's

    @property
    def games(self) -> int:
        return max(1, self.users // 15)

    @property
    def sprints(self) -> int:
        return max(1, self.users // 30)


@dataclass
class LevelResult:
    """What one level measured."""

    shape: Shape
    settled: list[tuple[Sent, Settled]]
    rss_idle_mb: float
    rss_max_mb: float
    heartbeat_warnings: list[str]
    bot_errors: list[str]
    seconds: float
    fake_lag_max_s: float = 0.0  # the longest the fake's own event loop was late
    bot_lag_max_s: float = 0.0  # the longest the bot's event loop was late, under load
    failures: list[str] = field(default_factory=list)

    def outcomes(self) -> Counter[str]:
        return Counter(result.outcome for _, result in self.settled)


# --- the bot process ---------------------------------------------------------------------


def write_config(folder: Path, model: str, *, door_limits: bool = True) -> Path:
    """The default configuration, except the model, the files, and (for the tiny model, whose
    context is short) the token limits the tests use. ``door_limits=False`` turns the
    commands-per-minute limits off, to see where the bot itself gives."""
    limits = "max_new_tokens_cap = 48\nmax_prompt_tokens = 96\n" if model != "bundled" else ""
    door = (
        ""
        if door_limits
        else "[limits]\ncommands_per_minute_user = 0\ncommands_per_minute_guild = 0\n"
    )
    config = folder / "config.toml"
    config.write_text(
        f'[model]\nname = "{model}"\n'
        f"[generation]\n{limits}"
        f'[storage]\ndatabase = "{folder / "bot.db"}"\n'
        f'[health]\nheartbeat_file = "{folder / "heartbeat.json"}"\n'
        '[logging]\nlevel = "INFO"\n' + door
    )
    return config


class BotProcess:
    """``python -m bot run`` (through bench.load_bot, which points it at the fake),
    its output read as it comes, its RSS sampled from /proc."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.output = bytearray()
        assert process.stdout is not None
        self._reader = asyncio.create_task(self._read(process.stdout))
        self.rss_samples: list[float] = []
        self._sampler: asyncio.Task[None] | None = None

    async def _read(self, stream: asyncio.StreamReader) -> None:
        # Read everything: a pipe nobody reads blocks every thread of the bot that logs.
        while chunk := await stream.read(65536):
            self.output.extend(chunk)

    def rss_mb(self) -> float:
        """The process's resident memory now (VmRSS), in MB; 0 once it is gone."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return 0.0
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def sample_rss(self, every: float = 0.25) -> None:
        async def sample() -> None:
            while True:
                self.rss_samples.append(self.rss_mb())
                await asyncio.sleep(every)

        self._sampler = asyncio.create_task(sample())

    async def stop(self) -> str:
        """SIGINT (a clean shutdown, as an operator's Ctrl-C), then what it printed."""
        if self._sampler is not None:
            self._sampler.cancel()
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(self.process.wait(), 60)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        await asyncio.wait_for(self._reader, 10)
        return self.output.decode(errors="replace")


@contextlib.asynccontextmanager
async def bot_process(server: FakeDiscord, config: Path) -> AsyncIterator[BotProcess]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "INKWELL_DISCORD_TOKEN": BOT_TOKEN,
        "INKWELL_TEST_IGNORE_EOS": "0",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.load_bot",
        server.rest_base,
        str(server.gateway_url),
        str(config),
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    bot = BotProcess(process)
    try:
        yield bot
    finally:
        await bot.stop()


async def wait_until_serving(server: FakeDiscord, bot: BotProcess, within: float) -> None:
    """Until the bot answers /help (it has connected, and taken in its guild)."""
    deadline = time.monotonic() + within
    if not await until(lambda: bool(server.gateway.live_sessions()), within, 0.1):
        raise RuntimeError("the bot never connected:\n" + bot.output.decode(errors="replace"))
    while time.monotonic() < deadline:
        probe = await server.slash("help", user="owner")
        if await until(lambda probe=probe: is_settled(probe, writes=False), 3):
            return
    raise RuntimeError("the bot never answered /help:\n" + bot.output.decode(errors="replace"))


# --- one level ---------------------------------------------------------------------------


async def build_server(shape: Shape) -> tuple[FakeDiscord, list[str], Community]:
    server = FakeDiscord()
    users = [f"u{i:03d}" for i in range(1, shape.users + 1)]
    for name in users:
        await server.add_user(name)  # before the bot connects: in GUILD_CREATE
    games = [await server.add_channel(f"poem-game-{i}") for i in range(1, shape.games + 1)]
    sprints = [await server.add_channel(f"sprint-{i}") for i in range(1, shape.sprints + 1)]
    return server, users, Community(server, users, games, sprints, seed=int(shape.level * 1000))


class LoopLag:
    """How late this process's event loop wakes up: the fake Discord shares it with the
    simulated members, so a late fake would make the bot look slow."""

    def __init__(self, every: float = 0.05) -> None:
        self._every = every
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        async def tick() -> None:
            loop = asyncio.get_running_loop()
            while True:
                planned = loop.time() + self._every
                await asyncio.sleep(self._every)
                self.worst = max(self.worst, loop.time() - planned)

        self._task = asyncio.create_task(tick())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


async def run_level(
    shape: Shape,
    model: str,
    *,
    silence_after: float,
    start_within: float = 300.0,
    log_to: Path | None = None,
    door_limits: bool = True,
) -> LevelResult:
    """Start a fresh bot on a fresh fake, set the server up, send the bursts, and read what
    became of every interaction."""
    began = time.monotonic()
    server, _, community = await build_server(shape)
    with tempfile.TemporaryDirectory(prefix="inkwell-load-") as folder:
        config = write_config(Path(folder), model, door_limits=door_limits)
        async with server, bot_process(server, config) as bot:
            await wait_until_serving(server, bot, start_within)
            await community.set_up()
            rss_idle = bot.rss_mb()
            bot.sample_rss()
            lag = LoopLag()
            lag.start()
            load_began = len(bot.output)
            tasks: list[asyncio.Task[None]] = []
            per_burst = [len(part) for part in _split(shape.commands, shape.bursts)]
            for index, count in enumerate(per_burst):
                burst_start = time.monotonic()
                for _ in range(count):
                    tasks.append(asyncio.create_task(community.command()()))
                    await asyncio.sleep(0)  # let each go out; a burst still lands at once
                if index < len(per_burst) - 1:
                    await asyncio.sleep(max(0.0, shape.gap - (time.monotonic() - burst_start)))
            await asyncio.gather(*tasks)
            sent = list(community.sent)
            last_sent = max(s.handle.dispatched_at for s in sent)
            await until(
                lambda: all(is_settled(s.handle, writes=s.writes) for s in sent),
                max(0.0, last_sent + silence_after - time.monotonic()),
                0.2,
            )
            await asyncio.sleep(1.5)  # the rest of a long piece (its followups) arrives
            rss_max = max(bot.rss_samples, default=0.0)
            lag.stop()
            output = await bot.stop()
            under_load = bytes(bot.output[load_began:]).decode(errors="replace")
    if log_to is not None:
        keep_log(log_to / f"bot-{shape.level:g}x.log", output)
    results = [(s, settle(s.handle, writes=s.writes)) for s in sent]
    lines = output.splitlines()
    result = LevelResult(
        shape,
        results,
        rss_idle,
        rss_max,
        [line for line in lines if any(w in line for w in HEARTBEAT_WARNINGS)],
        [line for line in lines if " ERROR " in line or line.startswith("Traceback")],
        time.monotonic() - began,
        lag.worst,
        max(
            (float(line.split()[-2]) for line in under_load.splitlines() if LAG_MARK in line),
            default=0.0,
        ),
    )
    result.failures = check(result)
    return result


def keep_log(path: Path, output: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(output)


def _split(total: int, parts: int) -> list[range]:
    size, extra = divmod(total, parts)
    starts = [i * size + min(i, extra) for i in range(parts + 1)]
    return [range(starts[i], starts[i + 1]) for i in range(parts)]


def check(result: LevelResult) -> list[str]:
    """Every rule of the load test that this level broke, in words."""
    failures: list[str] = []
    late = [s for s, r in result.settled if r.defer_s is None or r.defer_s > DEFER_LIMIT]
    twice = [s for s, r in result.settled if r.answered > 1]
    counts = result.outcomes()
    if late:
        failures.append(f"{len(late)} not acknowledged within {DEFER_LIMIT:.0f} s ({_kinds(late)})")
    if twice:
        failures.append(f"{len(twice)} answered more than once ({_kinds(twice)})")
    for outcome in ("silence", "error", "refused"):
        if counts[outcome]:
            which = [s for s, r in result.settled if r.outcome == outcome]
            failures.append(f"{counts[outcome]} {outcome} ({_kinds(which)})")
    if result.heartbeat_warnings:
        failures.append(f"{len(result.heartbeat_warnings)} heartbeat warnings")
    if result.bot_errors:
        failures.append(f"{len(result.bot_errors)} ERROR lines in the bot's log")
    return failures


def _kinds(sent: list[Sent]) -> str:
    return ", ".join(f"{kind} x{n}" for kind, n in Counter(s.kind for s in sent).most_common())


# --- the table -----------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (nearest rank); None without values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def table(results: list[LevelResult]) -> str:
    """The markdown table: one row per level."""
    head = (
        "| load | users | interactions | "
        + " | ".join(OUTCOMES)
        + " | defer p50 / p95 / p99 s | final p50 / p95 / p99 s | RSS idle → max MB "
        "| heartbeat warnings | loop late, max s: bot / fake |"
    )
    rows = [head, "|" + "---|" * 3 + "--:|" * len(OUTCOMES) + "--:|--:|--:|--:|--:|"]
    for result in results:
        counts = result.outcomes()
        defers = [r.defer_s for _, r in result.settled if r.defer_s is not None]
        finals = [
            r.final_s for _, r in result.settled if r.final_s is not None and r.outcome != SILENCE
        ]
        rows.append(
            f"| {result.shape.level:g}x | {result.shape.users} | {len(result.settled)} | "
            + " | ".join(str(counts[o]) for o in OUTCOMES)
            + " | "
            + " / ".join(_seconds(percentile(defers, q)) for q in (50, 95, 99))
            + " | "
            + " / ".join(_seconds(percentile(finals, q)) for q in (50, 95, 99))
            + f" | {result.rss_idle_mb:.0f} → {result.rss_max_mb:.0f}"
            + f" | {len(result.heartbeat_warnings)}"
            + f" | {result.bot_lag_max_s:.2f} / {result.fake_lag_max_s:.2f} |"
        )
    return "\n".join(rows)


def details(result: LevelResult) -> str:
    """Per-command outcomes and the distinct non-ok answers, to see where it bends."""
    lines = [f"{result.shape.level:g}x ({result.seconds:.0f} s):"]
    by_kind: dict[str, Counter[str]] = {}
    finals: dict[str, list[float]] = {}
    for sent, settled in result.settled:
        by_kind.setdefault(sent.kind, Counter())[settled.outcome] += 1
        if settled.final_s is not None and settled.outcome != SILENCE:
            finals.setdefault(sent.kind, []).append(settled.final_s)
    for kind, counts in sorted(by_kind.items()):
        shown = ", ".join(f"{o} {counts[o]}" for o in OUTCOMES if counts[o])
        times = finals.get(kind, [])
        spread = " / ".join(_seconds(percentile(times, q)) for q in (50, 95))
        lines.append(f"  {kind}: {shown}; final p50 / p95 {spread} s")
    answers = Counter(
        (r.outcome, r.text.splitlines()[0][:90] if r.text else "(nothing)")
        for _, r in result.settled
        if r.outcome != "ok"
    )
    for (outcome, text), n in answers.most_common(8):
        lines.append(f"  {n} x {outcome}: {text}")
    lines += [f"  bot log: {line[:160]}" for line in result.bot_errors[:5]]
    lines += [f"  heartbeat: {line[:160]}" for line in result.heartbeat_warnings[:3]]
    lines += [f"  FAILED: {failure}" for failure in result.failures]
    return "\n".join(lines)


# --- entry point ---------------------------------------------------------------------------


def model_name(choice: str, folder: Path) -> str:
    if choice == "bundled":
        return "bundled"
    from tests.tiny_models import build_tiny_gpt2

    return str(build_tiny_gpt2(folder / "tiny-gpt2"))


def cpu_name() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return platform.processor()
    names = [line.split(":", 1)[1].strip() for line in out.splitlines() if "Model name" in line]
    return names[0] if names else platform.processor()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--levels", default="1,2,4", help="load multiples (default 1,2,4)")
    parser.add_argument("--model", choices=("tiny", "bundled"), default="bundled")
    parser.add_argument(
        "--quick", action="store_true", help="1x only, at a fifth of the size (60 commands)"
    )
    parser.add_argument("--commands", type=int, default=BASE_COMMANDS, help="commands at 1x")
    parser.add_argument("--users", type=int, default=BASE_USERS, help="members at 1x")
    parser.add_argument("--bursts", type=int, default=10)
    parser.add_argument("--gap", type=float, default=2.0, help="seconds between bursts")
    parser.add_argument(
        "--silence-after",
        type=float,
        default=180.0,
        help="seconds after the last command an unanswered one counts as silence",
    )
    parser.add_argument(
        "--no-limits",
        action="store_true",
        help="turn [limits] commands per minute off, to see where the bot itself gives",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--logs", type=Path, help="keep each level's bot log in this folder")
    return parser


async def main_async(args: argparse.Namespace) -> int:
    levels = [1.0] if args.quick else [float(x) for x in args.levels.split(",")]
    scale = 0.2 if args.quick else 1.0
    shapes = [
        Shape(
            level,
            max(1, round(args.commands * level * scale)),
            max(5, round(args.users * level * scale)),
            args.bursts,
            args.gap,
        )
        for level in levels
    ]
    results: list[LevelResult] = []
    with tempfile.TemporaryDirectory(prefix="inkwell-load-model-") as folder:
        model = model_name(args.model, Path(folder))
        for shape in shapes:
            print(
                f"… {shape.level:g}x: {shape.commands} commands from {shape.users} members",
                file=sys.stderr,
                flush=True,
            )
            results.append(
                await run_level(
                    shape,
                    model,
                    silence_after=args.silence_after,
                    log_to=args.logs,
                    door_limits=not args.no_limits,
                )
            )
    print(f"Load test, model {args.model}, on {cpu_name()} ({os.cpu_count()} CPUs)\n")
    print(table(results))
    print()
    for result in results:
        print(details(result))
    if args.json:
        args.json.write_text(json.dumps([_as_json(r) for r in results], indent=2))
    return 1 if any(r.failures for r in results) else 0


def _as_json(result: LevelResult) -> dict[str, object]:
    return {
        "level": result.shape.level,
        "commands": result.shape.commands,
        "users": result.shape.users,
        "outcomes": dict(result.outcomes()),
        "defer_s": [r.defer_s for _, r in result.settled],
        "final_s": [r.final_s for _, r in result.settled],
        "rss_idle_mb": result.rss_idle_mb,
        "rss_max_mb": result.rss_max_mb,
        "heartbeat_warnings": result.heartbeat_warnings,
        "fake_lag_max_s": result.fake_lag_max_s,
        "bot_lag_max_s": result.bot_lag_max_s,
        "failures": result.failures,
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
