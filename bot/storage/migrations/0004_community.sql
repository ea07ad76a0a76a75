-- Community writing: ideas on demand, the prompt of the day with its entries and votes, and
-- writing sprints. Times are ISO-8601 UTC text unless a column says "unix seconds".

-- === Ideas (/idea) ===============================================================
-- Every idea shown, curated or generated, so its buttons (write it, save it, another) work
-- after a restart, and so a channel sees no curated idea twice until its pool runs out.
-- pool names the filter an idea was drawn for ("genre=horror;theme=*"); cycle counts how
-- often that channel has run through that pool (a curated idea is "seen" by its channel in
-- its pool's latest cycle). requested is the source asked for (any|curated|ai), so "Another"
-- asks the same way. curated_key is the shipped prompt's stable id (NULL for an AI idea);
-- text, genre, form and poem_form are copied, so an idea reads the same after a release
-- edits or drops its prompt. user_id is who asked (0: nobody any more): erasing that user
-- deletes their AI ideas and sets user_id to 0 on their curated ones, which the channel keeps.
CREATE TABLE ideas (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id     INTEGER,
    channel_id   INTEGER NOT NULL,
    user_id      INTEGER NOT NULL,
    source       TEXT    NOT NULL CHECK (source IN ('curated', 'ai')),
    requested    TEXT    NOT NULL DEFAULT 'any' CHECK (requested IN ('any', 'curated', 'ai')),
    curated_key  TEXT,
    pool         TEXT    NOT NULL,
    cycle        INTEGER NOT NULL DEFAULT 0 CHECK (cycle >= 0),
    text         TEXT    NOT NULL,
    genre        TEXT,
    form         TEXT    NOT NULL CHECK (form IN ('poem', 'story', 'script')),
    poem_form    TEXT,
    created_at   TEXT    NOT NULL,
    CHECK ((source = 'curated') = (curated_key IS NOT NULL))
);
CREATE INDEX ideas_by_channel_pool ON ideas (channel_id, pool, cycle);
CREATE INDEX ideas_by_channel ON ideas (channel_id, id);
CREATE INDEX ideas_by_user ON ideas (user_id);

-- === The prompt of the day (/daily) ==============================================
-- One schedule per guild: post at local_time (HH:MM) in timezone (IANA), every day.
CREATE TABLE daily_schedules (
    guild_id      INTEGER PRIMARY KEY,
    channel_id    INTEGER NOT NULL,
    local_time    TEXT    NOT NULL,
    timezone      TEXT    NOT NULL,
    source        TEXT    NOT NULL,
    mode          TEXT    NOT NULL CHECK (mode IN ('post', 'collect')),
    paused        INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    pause_reason  TEXT,
    owner_id      INTEGER NOT NULL,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);

-- One prompt per guild and local day (in the zone the schedule had then): the UNIQUE key is
-- what makes a post happen once. posted_at (unix seconds, the scheduler's clock) places the
-- post in time, so a schedule moved to another zone knows which of its days is done.
CREATE TABLE daily_prompts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id    INTEGER NOT NULL,
    timezone    TEXT    NOT NULL,
    local_date  TEXT    NOT NULL,
    text        TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    mode        TEXT    NOT NULL CHECK (mode IN ('post', 'collect')),
    channel_id  INTEGER NOT NULL,
    message_id  INTEGER,
    revealed    INTEGER NOT NULL DEFAULT 0 CHECK (revealed IN (0, 1)),
    posted_at   REAL    NOT NULL,
    created_at  TEXT    NOT NULL,
    UNIQUE (guild_id, timezone, local_date)
);
CREATE INDEX daily_prompts_by_guild ON daily_prompts (guild_id, local_date);

-- An entry answers one prompt; one entry per member and prompt. A deleted entry, and an
-- erased member's entries and votes, leave the counts (their votes go with them).
CREATE TABLE daily_entries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    prompt_id   INTEGER NOT NULL REFERENCES daily_prompts (id) ON DELETE CASCADE,
    guild_id    INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    user_name   TEXT    NOT NULL,
    text        TEXT    NOT NULL,
    message_id  INTEGER,
    created_at  TEXT    NOT NULL,
    UNIQUE (prompt_id, user_id)
);
CREATE INDEX daily_entries_by_user ON daily_entries (user_id);
CREATE INDEX daily_entries_by_guild ON daily_entries (guild_id, created_at);

CREATE TABLE daily_votes (
    entry_id    INTEGER NOT NULL REFERENCES daily_entries (id) ON DELETE CASCADE,
    voter_id    INTEGER NOT NULL,
    created_at  TEXT    NOT NULL,
    PRIMARY KEY (entry_id, voter_id)
) WITHOUT ROWID;
CREATE INDEX daily_votes_by_voter ON daily_votes (voter_id);

-- === Writing sprints (/sprint) ===================================================
-- One open sprint per channel. Times are unix seconds. status moves only forward, each step
-- a compare-and-swap (waiting -> running -> counting -> finished, or -> cancelled), so a
-- timer fired twice finds its step already taken. ended_at is when writing actually stopped
-- (the planned ends_at, or earlier when everyone left); count_until closes the
-- "pens down, send your count" window. results_message_id is set once the results are
-- posted, so a retried results timer never posts them again.
CREATE TABLE sprints (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id           INTEGER,
    channel_id         INTEGER NOT NULL,
    starter_id         INTEGER NOT NULL,
    prompt             TEXT,
    prompt_by_starter  INTEGER NOT NULL DEFAULT 0 CHECK (prompt_by_starter IN (0, 1)),
    status             TEXT    NOT NULL
                       CHECK (status IN ('waiting', 'running', 'counting', 'finished', 'cancelled')),
    minutes            INTEGER NOT NULL CHECK (minutes BETWEEN 1 AND 120),
    starts_at          REAL    NOT NULL,
    ends_at            REAL    NOT NULL CHECK (ends_at > starts_at),
    ended_at           REAL,
    count_until        REAL,
    message_id         INTEGER,
    results_message_id INTEGER,
    created_at         TEXT    NOT NULL,
    finished_at        TEXT
);
CREATE UNIQUE INDEX one_open_sprint_per_channel ON sprints (channel_id)
    WHERE status IN ('waiting', 'running', 'counting');

-- joined_at/left_at are unix seconds: words per minute use the time each member sprinted.
-- words is the member's latest total count (NULL until they send one); what they wrote is
-- words - starting_words.
CREATE TABLE sprint_members (
    sprint_id       INTEGER NOT NULL REFERENCES sprints (id) ON DELETE CASCADE,
    user_id         INTEGER NOT NULL,
    user_name       TEXT    NOT NULL,
    starting_words  INTEGER NOT NULL DEFAULT 0 CHECK (starting_words >= 0),
    words           INTEGER CHECK (words >= 0),
    joined_at       REAL    NOT NULL,
    left_at         REAL,
    PRIMARY KEY (sprint_id, user_id)
) WITHOUT ROWID;
CREATE INDEX sprint_members_by_user ON sprint_members (user_id);

-- Totals and personal bests per member and guild (the console's guild is 0).
CREATE TABLE sprint_stats (
    user_id     INTEGER NOT NULL,
    guild_id    INTEGER NOT NULL,
    sprints     INTEGER NOT NULL DEFAULT 0,
    words       INTEGER NOT NULL DEFAULT 0,
    minutes     REAL    NOT NULL DEFAULT 0,
    best_words  INTEGER NOT NULL DEFAULT 0,
    best_wpm    REAL    NOT NULL DEFAULT 0,
    updated_at  TEXT    NOT NULL,
    PRIMARY KEY (user_id, guild_id)
) WITHOUT ROWID;
