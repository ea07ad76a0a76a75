-- Fairness that holds across processes: several bot processes (one per shard group) on one
-- database must agree on who is writing, who is cooling down and which process fires which
-- timer. Times are unix seconds.

-- One row per requester with a piece in flight (or data being erased). holder names the
-- process (the same on each of its starts, so a restart frees what it held); lease is this
-- taking's own token, so a late release or renewal never touches a later taking's row;
-- held_until is the lease's end, renewed while the piece runs, so the slots of a process
-- that died free themselves. guild_id is the guild whose share the piece counts against.
CREATE TABLE writing_slots (
    slot_kind   TEXT    NOT NULL,
    slot_id     BIGINT  NOT NULL,
    guild_id    BIGINT,
    holder      TEXT    NOT NULL,
    lease       TEXT    NOT NULL,
    held_until  DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (slot_kind, slot_id)
);
CREATE INDEX writing_slots_by_guild ON writing_slots (guild_id, held_until);

-- When a requester may ask again in a guild (guild_key 0: outside any guild). Rows whose
-- time has passed mean nothing and are swept now and then.
CREATE TABLE cooldowns (
    guild_key   BIGINT  NOT NULL,
    slot_kind   TEXT    NOT NULL,
    slot_id     BIGINT  NOT NULL,
    until       DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (guild_key, slot_kind, slot_id)
);
CREATE INDEX cooldowns_by_until ON cooldowns (until);

-- The guild a timer acts in, so that only the process holding that guild's shard fires it
-- (it has the guild's channels and settings at hand). NULL: the process holding shard 0.
ALTER TABLE timers ADD COLUMN guild_id BIGINT;
-- Timers set before this version learn their guild from what they belong to.
UPDATE timers SET guild_id = CAST(key AS BIGINT) WHERE kind = 'daily.post';
UPDATE timers SET guild_id = (SELECT guild_id FROM games WHERE games.id = CAST(split_part(timers.key, ':', 1) AS BIGINT))
    WHERE kind IN ('game.deadline', 'game.ai');
UPDATE timers SET guild_id = (SELECT guild_id FROM sprints WHERE sprints.id = CAST(timers.key AS BIGINT))
    WHERE kind IN ('sprint.start', 'sprint.end', 'sprint.results');

-- When a user's data was last erased (unix seconds), so that a piece another process was
-- writing from their words when they erased it is stored without them. Kept a day: no piece
-- runs that long.
CREATE TABLE erasures (
    user_id    BIGINT PRIMARY KEY,
    erased_at  DOUBLE PRECISION NOT NULL
);
