import time

import pytest

from bot.errors import ModelUnavailable
from bot.generation.loading import load_model


def test_tiny_gpt2_loads_through_the_user_path(tiny_gpt2_dir, tmp_path):
    stages = []
    loaded = load_model(
        str(tiny_gpt2_dir),
        cache_dir=tmp_path,
        progress=lambda stage, fraction: stages.append((stage, fraction)),
    )
    assert loaded.chat is False  # GPT-2 is a base model: continuation prompts
    assert loaded.context_window == 256
    assert loaded.tokenizer.eos_token_id in loaded.eos_ids
    assert loaded.tokenizer("Hello world")["input_ids"] == [15496, 995]  # real GPT-2 BPE
    fractions = [fraction for _, fraction in stages]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert fractions == sorted(fractions)


def test_missing_hub_model_fails_fast_with_advice(tmp_path):
    started = time.perf_counter()
    with pytest.raises(ModelUnavailable) as caught:
        load_model("gpt2-does-not-exist-here", cache_dir=tmp_path)
    assert time.perf_counter() - started < 10
    message = caught.value.user_message
    assert "gpt2-does-not-exist-here" in message and "bundled" in message


def test_missing_directory_and_gguf_are_named(tmp_path):
    with pytest.raises(ModelUnavailable, match="does not exist"):
        load_model(str(tmp_path / "nowhere"), cache_dir=tmp_path)
    with pytest.raises(ModelUnavailable, match="does not exist"):
        load_model(str(tmp_path / "model.gguf"), cache_dir=tmp_path)


def test_directory_without_config_is_explained(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelUnavailable, match=r"no config\.json"):
        load_model(str(tmp_path / "empty"), cache_dir=tmp_path)
