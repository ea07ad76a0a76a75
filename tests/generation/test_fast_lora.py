"""LoRA on the fast decoder against peft itself, on tiny random Llama and GPT-2 models (whose
adapters start with random B's, so every update is non-zero): Llama's q/k/v and gate/up are
fused in the decoder, GPT-2's Conv1D layers are transposed."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from peft import LoraConfig, get_peft_model

from bot.errors import ModelUnavailable
from bot.generation.fast.decoder import FastDecoder
from bot.generation.fast.lora import FastAdapter, fuse_adapter
from bot.generation.fast.weights import read_weights
from bot.generation.lora import read_lora
from tests.generation.test_fast_decoder import PROMPT, reference_logits, tiny_gpt2, tiny_llama

BUILDERS = [tiny_llama, tiny_gpt2]


def saved_adapter(build, directory: Path, seed: int, rank: int = 8) -> Path:
    """A LoRA adapter on every linear layer of ``build()``, with random A and B."""
    model = build()
    torch.manual_seed(seed)
    config = LoraConfig(
        r=rank,
        lora_alpha=16,
        target_modules="all-linear",
        init_lora_weights=False,
        fan_in_fan_out=model.config.model_type == "gpt2",
    )
    get_peft_model(model, config).save_pretrained(directory)
    return directory


def peft_logits(build, directory: Path, ids: list[int]) -> torch.Tensor:
    from peft import PeftModel

    return reference_logits(PeftModel.from_pretrained(build(), directory).eval(), ids)


def fast(build, kind: str, slots: int = 4) -> FastDecoder:
    dtype = torch.float32 if kind == "float32" else torch.bfloat16
    return FastDecoder(read_weights(build(), kind), slots=slots, max_length=200, dtype=dtype)


def fused(decoder: FastDecoder, directory: Path) -> FastAdapter:
    return fuse_adapter(read_lora(directory), decoder.weights, decoder.dtype, directory.name)


@pytest.mark.parametrize("build", BUILDERS, ids=["llama", "gpt2"])
def test_an_adapter_on_the_fast_decoder_gives_peft_logits_step_by_step(build, tmp_path):
    directory = saved_adapter(build, tmp_path / "voice", seed=3)
    expected = peft_logits(build, directory, PROMPT)
    base = reference_logits(build(), PROMPT)
    decoder = fast(build, "float32")
    adapter = fused(decoder, directory)
    with torch.inference_mode():
        first = decoder.prefill(1, PROMPT[:5], adapter)
        torch.testing.assert_close(first, expected[4], atol=1e-4, rtol=1e-4)
        decoder.prefill(0, PROMPT[:5])  # a base row beside it
        for position in range(5, len(PROMPT)):
            step = decoder.decode([PROMPT[position]] * 2, [position] * 2)
            torch.testing.assert_close(step[1], expected[position], atol=1e-4, rtol=1e-4)
            torch.testing.assert_close(step[0], base[position], atol=1e-4, rtol=1e-4)
    assert not torch.allclose(expected, base, atol=1e-2)  # the adapter changes the logits


@pytest.mark.parametrize("kind", ["int8", "bfloat16", "float32"])
def test_a_voiced_rows_logits_do_not_depend_on_the_rows_beside_it(kind, tmp_path):
    # The seed promise with voices: a row alone, and beside a row with another voice (of
    # another rank) and a base row, bit for bit; and again after it moves down a slot.
    decoder = fast(tiny_llama, kind, slots=4)
    harbour = fused(decoder, saved_adapter(tiny_llama, tmp_path / "harbour", seed=1))
    forest = fused(decoder, saved_adapter(tiny_llama, tmp_path / "forest", seed=2, rank=16))
    with torch.inference_mode():
        decoder.prefill(0, PROMPT, harbour)
        alone = decoder.decode([8], [len(PROMPT)])[0]
        decoder.prefill(0, [4, 5, 6], forest)
        decoder.prefill(1, [7, 8])
        decoder.prefill(2, PROMPT, harbour)
        crowded = decoder.decode([8, 8, 8], [3, 2, len(PROMPT)])[2]
        decoder.prefill(2, PROMPT, harbour)
        decoder.move(2, 0, len(PROMPT))
        moved = decoder.decode([8], [len(PROMPT)])[0]
    assert torch.equal(crowded, alone)
    assert torch.equal(moved, alone)


def test_a_slot_given_back_to_the_base_model_forgets_its_voice(tmp_path):
    decoder = fast(tiny_gpt2, "float32", slots=2)
    voice = fused(decoder, saved_adapter(tiny_gpt2, tmp_path / "voice", seed=1))
    base = reference_logits(tiny_gpt2(), PROMPT)
    with torch.inference_mode():
        decoder.prefill(0, PROMPT[:-1], voice)
        decoder.prefill(1, PROMPT[:-1], voice)
        decoder.prefill(0, PROMPT[:-1])  # slot 0 is a base row now; slot 1 keeps its voice
        step = decoder.decode([PROMPT[-1]] * 2, [len(PROMPT) - 1] * 2)
    torch.testing.assert_close(step[0], base[-1], atol=1e-4, rtol=1e-4)
    assert not torch.allclose(step[1], base[-1], atol=1e-3)


def test_an_adapter_for_another_model_is_refused(tmp_path):
    directory = saved_adapter(tiny_llama, tmp_path / "llama-voice", seed=1)
    with pytest.raises(ModelUnavailable, match="trained on another model"):
        fused(fast(tiny_gpt2, "float32"), directory)
