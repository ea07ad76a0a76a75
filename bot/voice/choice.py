"""Which voice a guild writes in: the adapters it may choose, and the choice itself."""

from __future__ import annotations

from pathlib import Path

from bot.errors import InvalidRequest
from bot.storage import Database
from bot.storage.voices import AdapterRecord

NONE = "none"
ADAPTER_FILE = "adapter_model.safetensors"


def on_disk(voices_dir: Path, name: str) -> bool:
    """Whether the adapter's weights are where the writer will look for them."""
    return (voices_dir / name / ADAPTER_FILE).is_file()


async def choosable(database: Database, voices_dir: Path, guild_id: int) -> list[AdapterRecord]:
    """The adapters a guild may write with: its own, and those trained from files (another
    guild's voice is that community's, not theirs to take)."""
    return [
        record
        for record in await database.voices.adapters(guild_id)
        if on_disk(voices_dir, record.name)
    ]


async def choose_voice(
    database: Database, voices_dir: Path, guild_id: int, name: str
) -> AdapterRecord | None:
    """Make ``name`` (or "none") the guild's voice; the adapter's record, None for none."""
    wanted = name.strip().lower()
    if wanted == NONE:
        await database.guild_settings.update(guild_id, voice_adapter=None)
        return None
    record = await database.voices.adapter(wanted)
    if record is None or record.guild_id not in (None, guild_id):
        raise InvalidRequest(
            f"There is no voice called {wanted!r} for this server. The bot's operator trains "
            "one with `python -m bot train --guild <this server's id> --out NAME`."
        )
    if not on_disk(voices_dir, wanted):
        raise InvalidRequest(
            f"The voice {wanted!r} is recorded, but its files are missing on the bot's machine; "
            "ask the operator to train it again."
        )
    await database.guild_settings.update(guild_id, voice_adapter=wanted)
    return record


async def voice_of(database: Database, voices_dir: Path, guild_id: int) -> AdapterRecord | None:
    """The guild's voice, if it has one that can still be used."""
    name = database.guild_settings.cached(guild_id).voice_adapter
    if name is None or not on_disk(voices_dir, name):
        return None
    return await database.voices.adapter(name)
