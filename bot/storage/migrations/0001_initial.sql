-- Inkwell's first schema. Times are ISO-8601 UTC text; JSON columns are checked.
-- Discord snowflakes fit SQLite's 64-bit INTEGER; the console uses user_id 0.

CREATE TABLE generations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL,
    user_name   TEXT    NOT NULL,
    guild_id    INTEGER,
    channel_id  INTEGER,
    form        TEXT    NOT NULL,
    poem_form   TEXT,
    genre       TEXT,
    prompt      TEXT    NOT NULL,
    params      TEXT    NOT NULL CHECK (json_valid(params)),
    seed        INTEGER NOT NULL,
    model       TEXT    NOT NULL,
    text        TEXT    NOT NULL,
    -- Continue/Regenerate/remix chains survive the parent's deletion (privacy erase).
    parent_id   INTEGER REFERENCES generations (id) ON DELETE SET NULL,
    created_at  TEXT    NOT NULL
);
CREATE INDEX generations_by_user ON generations (user_id, id);
CREATE INDEX generations_by_guild ON generations (guild_id);
CREATE INDEX generations_by_parent ON generations (parent_id);

-- AUTOINCREMENT: favourite ids are shown to users, so a deleted id is never reused
-- for a different piece.
CREATE TABLE favorites (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER NOT NULL,
    generation_id INTEGER NOT NULL REFERENCES generations (id) ON DELETE CASCADE,
    created_at    TEXT    NOT NULL,
    UNIQUE (user_id, generation_id)
);
CREATE INDEX favorites_by_user ON favorites (user_id, id);
CREATE INDEX favorites_by_generation ON favorites (generation_id);

-- name_key is the casefolded name (computed in Python: NOCASE only folds ASCII).
CREATE TABLE saved_prompts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    name_key    TEXT    NOT NULL,
    text        TEXT    NOT NULL,
    form        TEXT    NOT NULL,
    options     TEXT    NOT NULL CHECK (json_valid(options)),
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    UNIQUE (user_id, name_key)
);

-- NULL means "use the bot's default".
CREATE TABLE guild_settings (
    guild_id          INTEGER PRIMARY KEY,
    temperature       REAL,
    top_p             REAL,
    top_k             INTEGER,
    max_new_tokens    INTEGER,
    cooldown_seconds  INTEGER,
    updated_at        TEXT NOT NULL
);

-- No rows for a guild means every channel is allowed.
CREATE TABLE guild_allowed_channels (
    guild_id    INTEGER NOT NULL,
    channel_id  INTEGER NOT NULL,
    PRIMARY KEY (guild_id, channel_id)
) WITHOUT ROWID;
