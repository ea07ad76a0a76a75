"""Settings: TOML file -> frozen, validated dataclasses; secrets only from the environment.

Every key has a default, so no file at all is a valid configuration (the console relies on it).
A bad value stops start-up with a ``ConfigError`` that names the key, the value and what is
allowed. Unknown keys are errors too: a typo must not silently fall back to a default.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

from bot.storage.validation import MAX_FAVORITES, MAX_GENERATION_CHARS, MAX_SAVED_PROMPTS, Quotas

TOKEN_ENV_VARS = ("INKWELL_DISCORD_TOKEN", "DISCORD_TOKEN")
# The model server's key (model.backend = "openai"); like the Discord token, never in a file.
OPENAI_KEY_ENV_VARS = ("INKWELL_OPENAI_API_KEY", "OPENAI_API_KEY")
# The key `python -m bot serve` asks its clients for; unset = no check (it listens on
# 127.0.0.1 by default).
SERVE_KEY_ENV_VAR = "INKWELL_SERVE_API_KEY"
# The most characters one token can add to a piece. Tokens average about 4 characters, but a
# model stuck on a separator line writes its longest ones over and over: SmolLM2's longest is
# 81 (a newline and 80 spaces); 128 leaves room for other vocabularies' longer runs.
MAX_CHARS_PER_TOKEN = 128
# So that a piece of the longest allowed length always fits in storage (4,096 tokens).
MAX_NEW_TOKENS_CAP = MAX_GENERATION_CHARS // MAX_CHARS_PER_TOKEN
CONFIG_ENV_VAR = "INKWELL_CONFIG"
# More shards than any one bot is likely to need (Discord advises one per 1,000 guilds).
MAX_SHARDS = 4096
# Overrides storage.url, so a container (deploy/docker-compose.yml) can name its database
# without a config file of its own; the password belongs in PGPASSWORD all the same.
STORAGE_URL_ENV_VAR = "INKWELL_STORAGE_URL"


class ConfigError(Exception):
    """The configuration cannot be used; the message says which key and why."""


def _rule(
    default: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    choices: tuple[str, ...] | None = None,
    doc: str = "",
) -> Any:
    """A field with its default and the limits the loader enforces."""
    meta = {"low": low, "high": high, "choices": choices, "doc": doc}
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class ModelSettings:
    """Which language model writes, and how it runs on this machine."""

    name: str = _rule("bundled", doc="'bundled', a Hugging Face id such as 'gpt2', or a directory")
    cache_dir: str = _rule("", doc="where converted models are kept; '' = ~/.cache/inkwell")
    dtype: str = _rule("auto", choices=("auto", "float32", "bfloat16"))
    engine: str = _rule(
        "fast", choices=("fast", "torch", "ctranslate2"), doc="see config.example.toml"
    )
    threads: int = _rule(0, low=0, high=256, doc="torch threads for the worker; 0 = automatic")
    # A model server that speaks the OpenAI API instead of the local engine (the keys below
    # apply only then; see config.example.toml).
    backend: str = _rule("local", choices=("local", "openai"), doc="'openai' = a model server")
    base_url: str = _rule("http://127.0.0.1:8000/v1", doc="the server's API root; /v1 is added")
    remote_model: str = _rule("", doc="the id the server serves; '' = the first it lists")
    remote_prompts: str = _rule(
        "auto", choices=("auto", "chat", "completion"), doc="how pieces are prompted remotely"
    )
    extra_sampling: bool = _rule(True, doc="send top_k and repetition_penalty (vLLM, TGI)")
    best_of: int = _rule(4, low=1, high=16, doc="candidates per form-bound piece, through n")
    connect_timeout: float = _rule(5.0, low=0.1, high=600.0)
    read_timeout: float = _rule(30.0, low=0.1, high=3600.0, doc="longest gap between chunks")
    request_timeout: float = _rule(120.0, low=0.1, high=3600.0, doc="a whole request's deadline")
    max_retries: int = _rule(2, low=0, high=10, doc="on connection errors, 429 and 5xx only")

    def resolved_cache_dir(self) -> Path:
        """The model cache directory, from the setting or the platform default."""
        if self.cache_dir:
            return Path(self.cache_dir).expanduser()
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        return Path(base) / "inkwell"


@dataclass(frozen=True)
class GenerationSettings:
    """Limits and defaults for every generation request."""

    max_new_tokens_cap: int = _rule(
        400, low=1, high=MAX_NEW_TOKENS_CAP, doc="bounded by what storage holds per piece"
    )
    max_prompt_tokens: int = _rule(512, low=16, high=8192)
    max_batch_size: int = _rule(8, low=1, high=64)
    max_queue: int = _rule(32, low=1, high=10_000)
    default_temperature: float = _rule(0.8, low=0.0, high=2.0)
    default_top_p: float = _rule(0.9, low=0.01, high=1.0)
    default_top_k: int = _rule(50, low=1, high=200)
    repetition_penalty: float = _rule(1.15, low=1.0, high=2.0)
    max_per_guild: int = _rule(
        8, low=0, high=10_000, doc="pieces one server may have running or waiting; 0 = no cap"
    )
    timeout_seconds: float = _rule(
        300.0, low=0.0, high=86_400.0, doc="longest one piece may write once started; 0 = none"
    )


@dataclass(frozen=True)
class DiscordSettings:
    """Discord-facing behaviour. The token is never read from the file."""

    cooldown_seconds: float = _rule(10.0, low=0.0, high=3600.0)
    dev_guild_id: int = _rule(0, low=0, doc="`python -m bot sync` targets it when set")
    stream_edit_interval: float = _rule(1.0, low=0.5, high=10.0)
    shutdown_grace_seconds: float = _rule(
        20.0, low=0.0, high=600.0, doc="how long pieces may finish after SIGTERM/SIGINT"
    )
    shard_count: int = _rule(0, low=0, high=MAX_SHARDS, doc="0 = as many as Discord advises")
    shard_ids: tuple[int, ...] = _rule(
        (), low=0, high=MAX_SHARDS - 1, doc="the shards this process runs; [] = all of them"
    )
    owner_ids: tuple[int, ...] = _rule(
        (), low=1, high=2**63 - 1, doc="user ids with owner commands; [] = the application's owner"
    )

    def __post_init__(self) -> None:
        if not self.shard_ids:
            return
        if self.shard_count == 0:
            raise ConfigError(
                "discord.shard_ids needs discord.shard_count: each process must know how many "
                "shards there are in all."
            )
        if len(set(self.shard_ids)) != len(self.shard_ids):
            raise ConfigError(f"discord.shard_ids lists a shard twice: {list(self.shard_ids)}.")
        outside = [shard for shard in self.shard_ids if shard >= self.shard_count]
        if outside:
            raise ConfigError(
                f"discord.shard_ids {outside} are not shards of {self.shard_count}: "
                f"ids run from 0 to {self.shard_count - 1}."
            )


@dataclass(frozen=True)
class StorageSettings:
    """Where user data lives."""

    database: str = _rule("data/inkwell.db", doc="SQLite file; relative paths are from the CWD")
    url: str = _rule("", doc="postgresql://user@host/db to use PostgreSQL; '' = the SQLite file")

    def __post_init__(self) -> None:
        # The URL may hold a password: the error names the key, not the value.
        if self.url and not self.url.startswith(("postgresql://", "postgres://")):
            raise ConfigError(
                "Invalid value for storage.url: it must start with postgresql:// "
                "(or be '' for the SQLite file in storage.database)."
            )

    def location(self) -> str:
        """What `Database.open` takes: the PostgreSQL URL when set, else the SQLite file."""
        return self.url or self.database


@dataclass(frozen=True)
class LoggingSettings:
    """Log verbosity for the whole process."""

    level: str = _rule("INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    format: str = _rule(
        "text", choices=("text", "json"), doc="json = one JSON object per line, for collectors"
    )


@dataclass(frozen=True)
class MetricsSettings:
    """Prometheus metrics at http://host:port/metrics (``python -m bot run`` only)."""

    enabled: bool = _rule(False, doc="off by default")
    host: str = _rule("127.0.0.1", doc="the address to listen on; keep it private")
    port: int = _rule(9108, low=0, high=65535, doc="0 = any free port (logged)")


@dataclass(frozen=True)
class HealthSettings:
    """The heartbeat the running bot writes and ``python -m bot health`` reads."""

    heartbeat_file: str = _rule(
        "data/heartbeat.json", doc="refreshed by `bot run`; relative to the CWD; '' = none"
    )
    heartbeat_interval: float = _rule(15.0, low=0.5, high=3600.0, doc="seconds between beats")
    stale_after: float = _rule(
        60.0, low=1.0, high=86400.0, doc="an older heartbeat means the bot is not alive"
    )

    def __post_init__(self) -> None:
        if self.stale_after <= self.heartbeat_interval:
            raise ConfigError(
                f"Invalid value for health.stale_after: {self.stale_after!r}. Allowed: more "
                f"than health.heartbeat_interval ({self.heartbeat_interval!r})."
            )


@dataclass(frozen=True)
class SprintSettings:
    """Writing sprints."""

    max_wpm: int = _rule(
        150, low=10, high=1000, doc="counts faster than this many words a minute are refused"
    )


@dataclass(frozen=True)
class VoiceSettings:
    """A community's own voice: LoRA adapters served on top of the model."""

    adapters_dir: str = _rule(
        "data/voices", doc="one folder per adapter, named by it; relative paths are from the CWD"
    )
    loaded_adapters: int = _rule(
        4, low=1, high=64, doc="adapters kept in memory at once; the least recently used goes"
    )


@dataclass(frozen=True)
class LimitsSettings:
    """How much one member, and one server, may ask of Inkwell."""

    commands_per_minute_user: int = _rule(
        20, low=0, high=10_000, doc="slash commands, buttons and forms per member; 0 = no limit"
    )
    commands_per_minute_guild: int = _rule(
        600, low=0, high=1_000_000, doc="the same for a whole server; 0 = no limit"
    )
    favorites_per_user: int = _rule(MAX_FAVORITES, low=1, high=100_000)
    prompts_per_user: int = _rule(MAX_SAVED_PROMPTS, low=1, high=10_000)

    def quotas(self) -> Quotas:
        """The saved-item caps, as the database enforces them."""
        return Quotas(favorites=self.favorites_per_user, prompts=self.prompts_per_user)


@dataclass(frozen=True)
class Settings:
    """Everything Inkwell can be configured with."""

    model: ModelSettings = field(default_factory=ModelSettings)
    generation: GenerationSettings = field(default_factory=GenerationSettings)
    discord: DiscordSettings = field(default_factory=DiscordSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    sprints: SprintSettings = field(default_factory=SprintSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    health: HealthSettings = field(default_factory=HealthSettings)
    voice: VoiceSettings = field(default_factory=VoiceSettings)
    limits: LimitsSettings = field(default_factory=LimitsSettings)


def discord_token() -> str | None:
    """The bot token from the environment, or None; never from a file, never logged."""
    for name in TOKEN_ENV_VARS:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def openai_api_key() -> str | None:
    """The model server's API key from the environment, or None; never from a file, never
    logged."""
    for name in OPENAI_KEY_ENV_VARS:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def serve_api_key() -> str | None:
    """The key ``python -m bot serve`` requires of its clients, or None for no check."""
    return os.environ.get(SERVE_KEY_ENV_VAR, "").strip() or None


def load_settings(path: Path | None = None) -> Settings:
    """Read and validate settings.

    ``path`` None means: ``$INKWELL_CONFIG`` if set, else ``./config.toml`` if it exists, else
    all defaults. An explicitly named file that does not exist is an error.
    ``$INKWELL_STORAGE_URL``, when set, replaces ``storage.url``.
    """
    settings = _load_file(path)
    url = os.environ.get(STORAGE_URL_ENV_VAR, "").strip()
    if url:
        settings = dataclasses.replace(
            settings, storage=dataclasses.replace(settings.storage, url=url)
        )
    return settings


def _load_file(path: Path | None) -> Settings:
    if path is None:
        env_path = os.environ.get(CONFIG_ENV_VAR)
        if env_path:
            path = Path(env_path)
        elif Path("config.toml").is_file():
            path = Path("config.toml")
        else:
            return Settings()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"Config file {path} does not exist.") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"Config file {path} is not UTF-8 text (byte {exc.start}); TOML files must be."
        ) from None
    except OSError as exc:  # a folder, no permission, ...: still a bad config, not a crash
        raise ConfigError(f"Config file {path} cannot be read: {exc.strerror}.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Config file {path} is not valid TOML: {exc}") from None
    return settings_from_dict(raw)


def settings_from_dict(raw: dict[str, Any]) -> Settings:
    """Validate a parsed TOML document into ``Settings``."""
    sections: dict[str, Any] = {}
    for section in dataclasses.fields(Settings):
        section_cls = section.default_factory  # type: ignore[misc]
        values = raw.get(section.name, {})
        if not isinstance(values, dict):
            raise ConfigError(f"[{section.name}] must be a table, got {values!r}.")
        sections[section.name] = _build_section(section.name, section_cls, values)
    unknown = set(raw) - set(sections)
    if unknown:
        known = ", ".join(sorted(sections))
        raise ConfigError(f"Unknown config section(s) {sorted(unknown)}; known: {known}.")
    return Settings(**sections)


def _build_section(section: str, cls: type, values: dict[str, Any]) -> Any:
    fields_by_name = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(values) - set(fields_by_name)
    if unknown:
        key = sorted(unknown)[0]
        raise ConfigError(
            f"Unknown key {section}.{key}; allowed keys: {', '.join(sorted(fields_by_name))}."
        )
    hints = get_type_hints(cls)
    checked = {
        name: _check_value(f"{section}.{name}", hints[name], fields_by_name[name].metadata, value)
        for name, value in values.items()
    }
    return cls(**checked)


def _check_value(key: str, hint: Any, meta: Any, value: Any) -> Any:
    def fail(allowed: str) -> ConfigError:
        return ConfigError(f"Invalid value for {key}: {value!r}. Allowed: {allowed}.")

    if hint is bool:
        if not isinstance(value, bool):
            raise fail("true or false")
        return value
    if hint is int or hint is float:
        numeric_ok = isinstance(value, int) or (hint is float and isinstance(value, float))
        if isinstance(value, bool) or not numeric_ok:
            raise fail("an integer" if hint is int else "a number")
        low, high = meta.get("low"), meta.get("high")
        # TOML has nan, and nan passes both comparisons below: a nan temperature or timeout
        # would only fail much later, far from the key that caused it.
        if isinstance(value, float) and math.isnan(value):
            raise fail(f"a number from {low} to {high}" if high is not None else f">= {low}")
        if (low is not None and value < low) or (high is not None and value > high):
            raise fail(f"a number from {low} to {high}" if high is not None else f">= {low}")
        return hint(value)
    if hint == tuple[int, ...]:
        if not isinstance(value, list):
            raise fail("a list of integers, e.g. [0, 1]")
        return tuple(_check_value(f"{key}[{i}]", int, meta, item) for i, item in enumerate(value))
    if hint is str:
        if not isinstance(value, str):
            raise fail("a string")
        choices = meta.get("choices")
        if choices and value not in choices:
            raise fail(" | ".join(choices))
        return value
    raise AssertionError(f"unsupported setting type for {key}: {hint}")
