-- Fairness that holds across processes: several bot processes (one per shard group) on one
-- database must agree on who is writing, who is cooling down and which process fires which
-- timer. Times are unix seconds.

-- One row per requester with a piece in flight (or data being erased). holder names the
-- process; held_until is its lease, renewed while the piece runs, so the slots of a process
-- that died free themselves. guild_id is the guild whose share the piece counts against.
CREATE TABLE writing_slots (
    slot_kind   TEXT    NOT NULL,
    slot_id     BIGINT  NOT NULL,
    guild_id    BIGINT,
    holder      TEXT    NOT NULL,
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
