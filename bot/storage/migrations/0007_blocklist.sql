-- The owner's blocklist (python -m bot block, /owner block): users and guilds that Inkwell
-- refuses. One table for both kinds, since they are listed, added and removed the same way;
-- the running bot reads it through a short cache (bot/abuse), so the CLI's changes reach it.
CREATE TABLE blocklist (
    kind        TEXT    NOT NULL CHECK (kind IN ('user', 'guild')),
    target_id   INTEGER NOT NULL CHECK (target_id > 0),
    reason      TEXT    NOT NULL DEFAULT '' CHECK (length(reason) <= 200),
    blocked_at  TEXT    NOT NULL,
    PRIMARY KEY (kind, target_id)
);
