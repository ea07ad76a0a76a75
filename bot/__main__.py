"""Command line: ``python -m bot console | run | sync | serve | health | reload-model | db``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings
from bot.errors import InkwellError
from bot.voice.cli import add_train_parser, run_train

log = logging.getLogger("bot")

# `run`'s exit code when another process already serves this token and database: not 1, so a
# supervisor (or a person) can tell "refused to double the bot" from a crash.
ALREADY_RUNNING = 3


def build_parser() -> argparse.ArgumentParser:
    """The CLI's arguments."""
    parser = argparse.ArgumentParser(prog="python -m bot", description="Inkwell, the writing bot.")
    parser.add_argument(
        "--config",
        type=Path,
        help="TOML config file (default: config.toml if present, else built-in defaults)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    console = commands.add_parser("console", help="write offline in the terminal (no Discord)")
    console.add_argument(
        "--once",
        action="append",
        metavar="COMMAND",
        help='run one command and exit, e.g. --once "/poem topic:rain"; '
        "repeatable. Without it, commands are read from stdin when it is "
        "not a terminal",
    )
    console.add_argument("--model", help="override model.name for this run")
    console.add_argument(
        "--adapter",
        metavar="NAME",
        help="write in a voice trained by `train` (a name in voice.adapters_dir, or a folder)",
    )
    console.add_argument("--verbose", action="store_true", help="show log messages")
    commands.add_parser("run", help="serve Discord (token from INKWELL_DISCORD_TOKEN)")
    sync = commands.add_parser("sync", help="publish the slash commands to Discord")
    target = sync.add_mutually_exclusive_group()
    target.add_argument(
        "--guild",
        type=int,
        metavar="ID",
        help="sync to one server only (instant); default: discord.dev_guild_id when set, "
        "else every server",
    )
    target.add_argument(
        "--global",
        dest="everywhere",
        action="store_true",
        help="sync to every server (Discord may take up to an hour to show them)",
    )
    serve = commands.add_parser(
        "serve",
        help="serve the local model as an OpenAI-compatible API (for bots on other machines)",
        description="Serve model.name through Inkwell's own engine at /v1/completions, "
        "/v1/chat/completions, /v1/models and /health (model.backend is ignored here). "
        "Set INKWELL_SERVE_API_KEY to require that key of every client.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument(
        "--port", type=int, default=8000, help="port to listen on (0 = any free port)"
    )
    health = commands.add_parser(
        "health",
        help="exit 0 if Inkwell is healthy, else 1 with the reason (for Docker and systemd)",
        description="Check that the configuration loads, that the database opens and is at "
        "this code's schema version, and that the running bot's heartbeat "
        "(health.heartbeat_file) is fresh and says it is connected to Discord. Prints one "
        "line. Exit codes: 0 healthy, 1 unhealthy, 2 bad configuration.",
    )
    health.add_argument(
        "--no-bot",
        action="store_true",
        help="check the configuration and the database only, not the running bot",
    )
    reload = commands.add_parser(
        "reload-model",
        help="make the running bot load its model again (after fixing what made it fail)",
        description="Send SIGHUP to the bot whose pid the heartbeat (health.heartbeat_file) "
        "names, or to --pid; with --wait, follow the heartbeat until the attempt ends. Exit "
        "codes: 0 loaded (or asked, with --wait 0), 1 still resting or the bot can't be asked.",
    )
    reload.add_argument("--pid", type=int, help="the bot's process id (default: the heartbeat's)")
    reload.add_argument(
        "--wait",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="how long to wait for the attempt to end (0 = just ask; default 120)",
    )
    database = commands.add_parser("db", help="database maintenance")
    actions = database.add_subparsers(dest="action", required=True)
    actions.add_parser("upgrade", help="apply pending migrations (storage.url, else the file)")
    copy = actions.add_parser(
        "migrate-to",
        help="copy the SQLite database into PostgreSQL",
        description="Copy every table of the SQLite file (storage.database, or --from) into "
        "the PostgreSQL database at URL, ids included, then check the row counts. The target "
        "must exist; its schema is created. Put the password in PGPASSWORD, not the URL.",
    )
    copy.add_argument("url", help="postgresql://user@host:port/dbname")
    copy.add_argument("--from", dest="source", type=Path, help="the SQLite file to copy")
    copy.add_argument("--replace", action="store_true", help="delete what the target holds first")
    backup = actions.add_parser(
        "backup",
        help="copy the SQLite database to PATH while the bot runs",
        description="Take an online backup of the SQLite file (storage.database, or --from) "
        "with SQLite's backup API. The copy must pass PRAGMA integrity_check before it "
        "replaces PATH. For PostgreSQL use pg_dump.",
    )
    backup.add_argument("path", type=Path, help="where to write the backup")
    backup.add_argument("--from", dest="source", type=Path, help="the SQLite file to back up")
    add_train_parser(commands)
    _add_block_commands(commands)
    return parser


def _add_block_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    block = commands.add_parser("block", help="the owner's blocklist of users and guilds")
    kinds = block.add_subparsers(dest="kind", required=True)
    for kind in ("user", "guild"):
        one = kinds.add_parser(kind, help=f"block a {kind} by its Discord id")
        one.add_argument("id", type=int, help=f"the {kind}'s Discord id")
        one.add_argument("--reason", default="", help="a note for yourself (200 characters)")
    kinds.add_parser("list", help="show every block")
    unblock = commands.add_parser("unblock", help="lift a block")
    unblock.add_argument("kind", choices=("user", "guild"))
    unblock.add_argument("id", type=int, help="the Discord id")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
    except ConfigError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return 2
    try:
        if args.command == "console":
            return _run_console(args, settings)
        if args.command in ("run", "sync"):
            return _run_discord(args, settings)
        if args.command == "serve":
            return _serve(args, settings)
        if args.command == "health":
            return _health(args, settings)
        if args.command == "reload-model":
            return _reload_model(args, settings)
        if args.command == "db" and args.action == "migrate-to":
            return _migrate_to(args, settings)
        if args.command == "db" and args.action == "backup":
            return _backup(args, settings)
        if args.command == "db":
            return _upgrade_database(settings)
        if args.command == "train":
            configure_logging(settings, "WARNING")
            return run_train(args, settings)
        if args.command in ("block", "unblock"):
            return asyncio.run(_blocklist(args, settings))
    except KeyboardInterrupt:
        print("\nBye.", file=sys.stderr)
        return 130
    except InkwellError as error:
        print(f"Error: {error.user_message}", file=sys.stderr)
        return 1
    raise AssertionError(f"unhandled command {args.command}")


def configure_logging(settings: Settings, level: str | None = None) -> None:
    """Configure logging once for the whole process: ``logging.level`` (or ``level``) and
    ``logging.format``, with the bot's token and anything shaped like a token redacted (at
    DEBUG discord.py logs webhook URLs, which carry interaction tokens)."""
    import dataclasses

    from bot.config import discord_token, openai_api_key, serve_api_key
    from bot.ops.logs import setup_logging

    chosen = dataclasses.replace(settings.logging, level=level or settings.logging.level)
    setup_logging(chosen, [discord_token(), openai_api_key(), serve_api_key()])


def _health(args: argparse.Namespace, settings: Settings) -> int:
    from bot.ops.health import Unhealthy, check

    try:
        report = check(settings, bot=not args.no_bot)
    except Unhealthy as error:
        print(f"unhealthy: {error}", file=sys.stderr)
        return 1
    print(f"healthy: database at schema version {report.schema_version}; {report.heartbeat}")
    return 0


def _reload_model(args: argparse.Namespace, settings: Settings) -> int:
    from bot.ops.reload import request_reload

    outcome = request_reload(settings, pid=args.pid, wait=args.wait)
    if outcome.state is None:
        print(f"Asked process {outcome.pid} to reload the model; see /stats or the log.")
    elif outcome.ready:
        print(f"The model is loaded (process {outcome.pid}).")
    else:
        print(f"The model still could not be loaded: {outcome.reason}", file=sys.stderr)
    return 0 if outcome.ready else 1


def _run_discord(args: argparse.Namespace, settings: Settings) -> int:
    from bot.storage.instance_lock import AlreadyRunning
    from cogs.launcher import run_bot, sync_commands

    configure_logging(settings)
    if args.command == "run":
        try:
            asyncio.run(run_bot(settings))
        except AlreadyRunning as error:
            print(f"Error: {error.user_message}", file=sys.stderr)
            return ALREADY_RUNNING
        return 0
    guild = None if args.everywhere else args.guild or settings.discord.dev_guild_id or None
    names = asyncio.run(sync_commands(settings, guild))
    where = f"server {guild}" if guild else "all servers (may take up to an hour)"
    print(f"Synced {len(names)} commands to {where}: {', '.join(sorted(names))}")
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.config import serve_api_key

    configure_logging(settings)
    asyncio.run(_serve_main(args, settings, serve_api_key()))
    return 0


async def _serve_main(args: argparse.Namespace, settings: Settings, api_key: str | None) -> None:
    from bot.generation.remote.server import serve
    from bot.generation.service import GenerationService

    # Always the local engine: serving a model server's model again would only add a hop.
    generation = GenerationService(settings.model, settings.generation)
    await generation.start(
        lambda stage, fraction: log.info("Model: %s (%.0f%%)", stage, 100 * (fraction or 0))
    )
    try:

        def ready(url: str) -> None:
            # A line of its own on stdout, so scripts (and the tests) can wait for it.
            print(f"Serving {generation.info.name} at {url}", flush=True)

        await serve(generation, args.host, args.port, api_key=api_key, ready=ready)
    finally:
        await generation.close()


def _upgrade_database(settings: Settings) -> int:
    from bot.storage import upgrade

    configure_logging(settings)
    if settings.storage.url:
        from bot.storage import migrate_postgres
        from bot.storage.migrate import discover
        from bot.storage.postgres import redact

        where = redact(settings.storage.url)
        migrations = discover(None, "postgresql")
        before, after = asyncio.run(migrate_postgres.upgrade(settings.storage.url, migrations))
    else:
        where = settings.storage.database
        before, after = asyncio.run(upgrade(Path(where)))
    if before == after:
        print(f"{where} is up to date (schema version {after}).")
    else:
        print(f"Upgraded {where} from schema version {before} to {after}.")
    return 0


async def _blocklist(args: argparse.Namespace, settings: Settings) -> int:
    """Change or show the blocklist in the database, where a running bot reads it."""
    from bot.storage import Database

    if (args.command != "block" or args.kind != "list") and args.id <= 0:
        print("Error: a Discord id is a positive number.", file=sys.stderr)
        return 2
    async with await Database.open(settings.storage.location()) as database:
        if args.command == "unblock":
            lifted = await database.blocklist.unblock(args.kind, args.id)
            print(
                f"Unblocked {args.kind} {args.id}."
                if lifted
                else f"{args.kind} {args.id} was not blocked."
            )
            return 0
        if args.kind == "list":
            blocks = await database.blocklist.all()
            for entry in blocks:
                note = f" ({entry.reason})" if entry.reason else ""
                print(f"{entry.kind} {entry.target_id} since {entry.blocked_at:%Y-%m-%d}{note}")
            if not blocks:
                print("Nobody is blocked.")
            return 0
        new = await database.blocklist.block(args.kind, args.id, args.reason)
        print(
            f"Blocked {args.kind} {args.id}."
            if new
            else f"{args.kind} {args.id} was already blocked; reason updated."
        )
        return 0


def _migrate_to(args: argparse.Namespace, settings: Settings) -> int:
    from bot.storage.copy import copy_sqlite_to_postgres
    from bot.storage.postgres import is_postgres_url, redact

    configure_logging(settings)
    if not is_postgres_url(args.url):
        print("Error: migrate-to takes a postgresql:// URL.", file=sys.stderr)
        return 2
    source = args.source or Path(settings.storage.database)
    copied = asyncio.run(copy_sqlite_to_postgres(source, args.url, replace=args.replace))
    width = max(len(table.name) for table in copied)
    print(f"Copied {source} to {redact(args.url)}:")
    for table in copied:
        print(f"  {table.name:<{width}}  {table.target_rows:>8} rows (SQLite: {table.source_rows})")
    total = sum(table.target_rows for table in copied)
    print(f"All {len(copied)} tables match, {total} rows in all.")
    print("To run on it, set storage.url to this URL.")
    return 0


def _backup(args: argparse.Namespace, settings: Settings) -> int:
    from bot.storage.backup import backup_sqlite

    if settings.storage.url and not args.source:
        print(
            "Error: storage.url is a PostgreSQL database; back it up with pg_dump "
            "(db backup copies SQLite files).",
            file=sys.stderr,
        )
        return 2
    source = args.source or Path(settings.storage.database)
    made = backup_sqlite(source, args.path)
    total = sum(made.rows.values())
    print(
        f"Backed up {source} to {made.path}: {made.bytes:,} bytes, schema version "
        f"{made.schema_version}, {len(made.rows)} tables, {total} rows; integrity check ok."
    )
    return 0


def _run_console(args: argparse.Namespace, settings: Settings) -> int:
    import dataclasses

    configure_logging(settings, None if args.verbose else "WARNING")
    if args.model:
        settings = dataclasses.replace(
            settings, model=dataclasses.replace(settings.model, name=args.model)
        )
    return asyncio.run(_console_main(args, settings))


async def _console_main(args: argparse.Namespace, settings: Settings) -> int:
    from bot.console.app import Console
    from bot.console.games import console_games
    from bot.console.progress import TerminalProgress
    from bot.console.sprints import console_sprints
    from bot.generation.backends import build_generation_service
    from bot.storage import Database
    from bot.writing.fairness import FairnessGate
    from bot.writing.flow import WriteFlow
    from bot.writing.pieces import WritingService

    # Open the database first: a bad path fails in a second, not after loading the model.
    database = await Database.open(settings.storage.location(), quotas=settings.limits.quotas())
    generation = build_generation_service(settings)
    try:
        progress = TerminalProgress(sys.stderr)
        try:
            await generation.start(progress)
        finally:
            progress.close()
        # One person at a terminal: no cooldown between pieces.
        flow = WriteFlow(
            WritingService(generation, voice=args.adapter),
            database,
            FairnessGate(database),
            cooldown_seconds=0,
        )
        console = Console(
            flow,
            database,
            games=console_games(flow, database),
            sprints=console_sprints(flow, database, max_wpm=settings.sprints.max_wpm),
        )
        if args.once:
            return 0 if await console.run_lines(args.once) else 1
        if not sys.stdin.isatty():
            return 0 if await console.run_lines(sys.stdin.read().splitlines()) else 1
        await console.interactive()
        return 0
    finally:
        await generation.close()
        await database.close()


if __name__ == "__main__":
    sys.exit(main())
