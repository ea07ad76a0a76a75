"""Database addresses in logs and messages never carry a password."""

from __future__ import annotations

import pytest

from bot.storage.postgres import redact


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://bot:s3cret@db:5432/inkwell", "postgresql://bot:***@db:5432/inkwell"),
        (
            "postgresql://bot@db/inkwell?sslmode=require&password=s3cret",
            "postgresql://bot@db/inkwell?sslmode=require&password=***",
        ),
        ("postgres://db/inkwell?passfile=/run/pgpass", "postgres://db/inkwell?passfile=***"),
        (
            "postgresql://postgres@/postgres?host=/tmp/pg&port=5433",
            "postgresql://postgres@/postgres?host=/tmp/pg&port=5433",
        ),
    ],
)
def test_passwords_are_masked_wherever_the_address_holds_them(url, shown):
    assert redact(url) == shown
    assert "s3cret" not in redact(url)
