import tomllib
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, discord_token, load_settings, settings_from_dict

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"


def test_example_file_documents_exactly_the_defaults():
    assert load_settings(EXAMPLE) == Settings()
    documented = tomllib.loads(EXAMPLE.read_text())
    defaults = Settings()
    for section, values in documented.items():
        section_defaults = getattr(defaults, section)
        assert set(values) == set(vars(section_defaults)), section


def test_no_file_means_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INKWELL_CONFIG", raising=False)
    assert load_settings() == Settings()


def test_values_are_read_and_typed(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(
        '[model]\nname = "gpt2"\n[generation]\ndefault_temperature = 1\n'
        "[discord]\ndev_guild_id = 42\n"
    )
    settings = load_settings(path)
    assert settings.model.name == "gpt2"
    assert settings.generation.default_temperature == 1.0
    assert isinstance(settings.generation.default_temperature, float)
    assert settings.discord.dev_guild_id == 42


@pytest.mark.parametrize(
    ("document", "fragments"),
    [
        (
            {"generation": {"default_temperature": 3.5}},
            ["generation.default_temperature", "3.5", "from 0.0 to 2.0"],
        ),
        ({"generation": {"max_batch_size": "8"}}, ["generation.max_batch_size", "an integer"]),
        ({"model": {"dtype": "fp8"}}, ["model.dtype", "'fp8'", "auto | float32 | bfloat16"]),
        ({"model": {"nmae": "gpt2"}}, ["Unknown key model.nmae", "name"]),
        ({"modle": {}}, ["Unknown config section", "modle"]),
        ({"discord": {"dev_guild_id": -1}}, ["discord.dev_guild_id", ">= 0"]),
        ({"discord": {"cooldown_seconds": True}}, ["discord.cooldown_seconds", "a number"]),
        ({"model": "gpt2"}, ["[model] must be a table"]),
    ],
)
def test_bad_values_name_key_value_and_what_is_allowed(document, fragments):
    with pytest.raises(ConfigError) as caught:
        settings_from_dict(document)
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_broken_toml_and_missing_file_are_reported(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[model\nname=")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "missing.toml")


def test_token_only_from_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("INKWELL_DISCORD_TOKEN", raising=False)
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    assert discord_token() is None
    monkeypatch.setenv("DISCORD_TOKEN", " abc ")
    assert discord_token() == "abc"
    path = tmp_path / "c.toml"
    path.write_text('[discord]\ntoken = "leak"\n')
    with pytest.raises(ConfigError, match=r"Unknown key discord\.token"):
        load_settings(path)


def test_the_token_cap_cannot_outgrow_what_storage_holds():
    from bot.config import MAX_CHARS_PER_TOKEN, MAX_NEW_TOKENS_CAP
    from bot.storage import MAX_GENERATION_CHARS

    assert MAX_NEW_TOKENS_CAP * MAX_CHARS_PER_TOKEN <= MAX_GENERATION_CHARS
    with pytest.raises(ConfigError, match=r"generation\.max_new_tokens_cap: 4097"):
        settings_from_dict({"generation": {"max_new_tokens_cap": MAX_NEW_TOKENS_CAP + 1}})
    highest = settings_from_dict({"generation": {"max_new_tokens_cap": MAX_NEW_TOKENS_CAP}})
    assert highest.generation.max_new_tokens_cap == MAX_NEW_TOKENS_CAP == 4096


@pytest.mark.slow
def test_the_bundled_models_longest_token_is_within_the_bound():
    """The bound is a fact about vocabularies: check it against the bundled model's."""
    gguf = pytest.importorskip("gguf")
    from bot.config import MAX_CHARS_PER_TOKEN
    from bot.generation.loading import bundled_gguf_path

    try:
        path = bundled_gguf_path()
    except Exception as exc:  # not installed here
        pytest.skip(str(exc))
    field = gguf.GGUFReader(path).fields["tokenizer.ggml.tokens"]
    tokens = [bytes(field.parts[index]).decode() for index in field.data]
    # Byte-level BPE spells each byte as one character, so a token's length in characters
    # is its length in bytes, at least as long as the text it decodes to.
    assert 70 < max(len(token) for token in tokens) <= MAX_CHARS_PER_TOKEN


def test_storage_url_must_be_postgresql_and_is_never_echoed() -> None:
    from bot.config import ConfigError, settings_from_dict

    settings = settings_from_dict({"storage": {"url": "postgresql://inkwell@db/inkwell"}})
    assert settings.storage.location() == "postgresql://inkwell@db/inkwell"
    assert settings_from_dict({}).storage.location() == "data/inkwell.db"
    with pytest.raises(ConfigError, match=r"storage\.url") as error:
        settings_from_dict({"storage": {"url": "mysql://u:secret@h/d"}})
    assert "secret" not in str(error.value)
