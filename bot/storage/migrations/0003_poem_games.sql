-- Collaborative poem games. `state` is the game rules' own JSON (seats, turn, rounds): storage
-- never reads inside it. `version` grows by one on every change, so two players acting at once
-- cannot both move the game (compare-and-swap on it, see bot/storage/games.py).
CREATE TABLE games (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id     INTEGER,  -- NULL in the console
    channel_id   INTEGER NOT NULL,
    host_id      INTEGER NOT NULL,
    mode         TEXT    NOT NULL,
    form         TEXT    NOT NULL,
    status       TEXT    NOT NULL
        CHECK (status IN ('lobby', 'running', 'finished', 'cancelled')),
    version      INTEGER NOT NULL DEFAULT 0,
    state        TEXT    NOT NULL CHECK (json_valid(state)),
    message_id   INTEGER,  -- the lobby/board message, once posted
    -- The finished poem: a generations row owned by the anthology (user_id -1), so stars,
    -- the hall of fame and visibility treat it like any piece.
    poem_id      INTEGER REFERENCES generations (id) ON DELETE SET NULL,
    created_at   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL,
    finished_at  TEXT
);
-- One open game per channel, enforced by SQLite so two /poemgame start at once can't both win.
CREATE UNIQUE INDEX games_one_open_per_channel ON games (channel_id)
    WHERE status IN ('lobby', 'running');
-- The anthology lists a guild's poems newest first (poem ids grow with time).
CREATE INDEX games_by_guild ON games (guild_id, poem_id);
CREATE INDEX games_by_poem ON games (poem_id) WHERE poem_id IS NOT NULL;

-- A line's author_id is NULL for the AI's lines and for lines whose author erased their data
-- (those read "(removed)").
CREATE TABLE game_lines (
    game_id      INTEGER NOT NULL REFERENCES games (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL CHECK (position >= 0),
    author_id    INTEGER,
    author_name  TEXT    NOT NULL,
    by_ai        INTEGER NOT NULL DEFAULT 0 CHECK (by_ai IN (0, 1)),
    text         TEXT    NOT NULL,
    removed      INTEGER NOT NULL DEFAULT 0 CHECK (removed IN (0, 1)),
    created_at   TEXT    NOT NULL,
    PRIMARY KEY (game_id, position)
) WITHOUT ROWID;
CREATE INDEX game_lines_by_author ON game_lines (author_id) WHERE author_id IS NOT NULL;
