-- Whose words a prompt holds, when they are not the requester's own (a regenerated or
-- remixed piece copies its author's prompt; "Continue with Inkwell" copies a message). When
-- that person erases their data, the prompt is redacted here too.
ALTER TABLE generations ADD COLUMN prompt_author_id INTEGER;
ALTER TABLE generations ADD COLUMN prompt_redacted INTEGER NOT NULL DEFAULT 0
    CHECK (prompt_redacted IN (0, 1));
CREATE INDEX generations_by_prompt_author ON generations (prompt_author_id)
    WHERE prompt_author_id IS NOT NULL;

-- One clock for every feature that acts later. A timer fires when due_at (unix seconds) has
-- passed and no live claim holds it; claimed_until is the claim's lease, so a process that
-- dies mid-firing leaves a claim that expires and the timer is claimed again.
CREATE TABLE timers (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    kind           TEXT    NOT NULL,
    key            TEXT    NOT NULL,
    due_at         REAL    NOT NULL,
    payload        TEXT    NOT NULL CHECK (json_valid(payload)),
    attempts       INTEGER NOT NULL DEFAULT 0,
    claimed_until  REAL,
    created_at     TEXT    NOT NULL,
    UNIQUE (kind, key)
);
CREATE INDEX timers_by_due ON timers (due_at);
