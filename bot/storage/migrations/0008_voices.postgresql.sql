-- A community's voice (python -m bot train, /privacy training, /settings voice).
-- (PostgreSQL: user and guild ids are BIGINT snowflakes.)
-- Consent to training is each member's own, off unless they allow it; a member with no row
-- has not allowed it.
CREATE TABLE training_consent (
    user_id     BIGINT  PRIMARY KEY,
    allowed     INTEGER NOT NULL CHECK (allowed IN (0, 1)),
    changed_at  TEXT    NOT NULL
);

-- An adapter trained on a guild's texts (guild_id NULL: from a corpus file). Its files live in
-- the voices folder under its name; this row is what it was built from. needs_retraining is
-- set when an author it learned from erases their data or withdraws consent.
CREATE TABLE voice_adapters (
    name              TEXT    PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 40),
    guild_id          BIGINT,
    base_model        TEXT    NOT NULL,
    authors           INTEGER NOT NULL CHECK (authors >= 0),
    pieces            INTEGER NOT NULL CHECK (pieces >= 0),
    built_at          TEXT    NOT NULL,
    needs_retraining  INTEGER NOT NULL DEFAULT 0 CHECK (needs_retraining IN (0, 1)),
    card              TEXT    NOT NULL CHECK (json_valid(card))
);

-- Who an adapter learned from, so an erasure or a withdrawal can mark it (the row goes then).
CREATE TABLE voice_adapter_authors (
    adapter  TEXT    NOT NULL REFERENCES voice_adapters (name) ON DELETE CASCADE,
    user_id  BIGINT  NOT NULL,
    PRIMARY KEY (adapter, user_id)
);
CREATE INDEX voice_adapter_authors_by_user ON voice_adapter_authors (user_id);

-- The adapter a guild's pieces are written with (NULL: the base model).
ALTER TABLE guild_settings ADD COLUMN voice_adapter TEXT;
