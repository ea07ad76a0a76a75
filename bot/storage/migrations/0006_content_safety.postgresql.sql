-- (PostgreSQL: guild ids are BIGINT snowflakes.)
-- Content safety (/settings content, /settings blocked-words): each guild's content rating
-- (strict | standard | off; "off" only takes effect in age-restricted channels, see
-- bot/safety) and its own blocked words, stored in their normal form (lower case, one
-- space between words) so one word is never listed twice.
ALTER TABLE guild_settings ADD COLUMN content_rating TEXT NOT NULL DEFAULT 'standard'
    CHECK (content_rating IN ('strict', 'standard', 'off'));

CREATE TABLE guild_blocked_words (
    guild_id  BIGINT  NOT NULL,
    word      TEXT    NOT NULL CHECK (length(word) BETWEEN 1 AND 40),
    added_at  TEXT    NOT NULL,
    PRIMARY KEY (guild_id, word)
);
