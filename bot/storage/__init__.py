"""Inkwell's persistence layer: one SQLite file, versioned migrations, repositories.

All SQL lives in this package. Callers get frozen dataclasses back and catch
`StorageError` (and subclasses) to show `error.user_message`.
"""

from bot.storage.blocklist import BLOCK_KINDS, Block, BlockKind, BlocklistRepository
from bot.storage.database import Database, default_database_path
from bot.storage.errors import (
    ChannelBusy,
    InvalidName,
    InvalidText,
    LimitReached,
    NameTaken,
    NotFound,
    StorageBusy,
    StorageError,
    StorageFull,
    TooLong,
)
from bot.storage.favorites import FavoriteRepository
from bot.storage.games import GameRepository, poem_text
from bot.storage.generations import GenerationRepository
from bot.storage.guild_settings import UNSET, GuildSettingsRepository
from bot.storage.ideas import IdeaRecord, IdeaRepository, NewIdea, PoolState
from bot.storage.migrate import upgrade
from bot.storage.models import (
    ANTHOLOGY_USER_ID,
    CONSOLE_USER_ID,
    REMOVED_LINE,
    AnthologyPoem,
    DeletedCounts,
    Favorite,
    FavoriteAdded,
    FavoriteWithPiece,
    GameLine,
    GameRow,
    GenerationRecord,
    GuildSettings,
    HallOfFameEntry,
    NewGeneration,
    SavedPrompt,
)
from bot.storage.prompts import PromptRepository
from bot.storage.sprints import SprintBusy, SprintMember, SprintRepository, SprintRow, SprintStats
from bot.storage.timers import Timer, TimerRepository
from bot.storage.users import UserDataRepository
from bot.storage.validation import (
    MAX_FAVORITES,
    MAX_GAME_LINE_CHARS,
    MAX_GENERATION_CHARS,
    MAX_NAME_CHARS,
    MAX_PROMPT_CHARS,
    MAX_SAVED_PROMPTS,
    Quotas,
)

__all__ = [
    "ANTHOLOGY_USER_ID",
    "BLOCK_KINDS",
    "CONSOLE_USER_ID",
    "MAX_FAVORITES",
    "MAX_GAME_LINE_CHARS",
    "MAX_GENERATION_CHARS",
    "MAX_NAME_CHARS",
    "MAX_PROMPT_CHARS",
    "MAX_SAVED_PROMPTS",
    "REMOVED_LINE",
    "UNSET",
    "AnthologyPoem",
    "Block",
    "BlockKind",
    "BlocklistRepository",
    "ChannelBusy",
    "Database",
    "DeletedCounts",
    "Favorite",
    "FavoriteAdded",
    "FavoriteRepository",
    "FavoriteWithPiece",
    "GameLine",
    "GameRepository",
    "GameRow",
    "GenerationRecord",
    "GenerationRepository",
    "GuildSettings",
    "GuildSettingsRepository",
    "HallOfFameEntry",
    "IdeaRecord",
    "IdeaRepository",
    "InvalidName",
    "InvalidText",
    "LimitReached",
    "NameTaken",
    "NewGeneration",
    "NewIdea",
    "NotFound",
    "PoolState",
    "PromptRepository",
    "Quotas",
    "SavedPrompt",
    "SprintBusy",
    "SprintMember",
    "SprintRepository",
    "SprintRow",
    "SprintStats",
    "StorageBusy",
    "StorageError",
    "StorageFull",
    "Timer",
    "TimerRepository",
    "TooLong",
    "UserDataRepository",
    "default_database_path",
    "poem_text",
    "upgrade",
]
