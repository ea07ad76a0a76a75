"""The fast decoder against transformers itself, on tiny random Llama and GPT-2 models."""

from __future__ import annotations

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

from bot.generation.fast.decoder import SPAN_QUANTUM, FastDecoder
from bot.generation.fast.linear import PackedLinear
from bot.generation.fast.weights import read_weights, unsupported_reason

VOCAB = 512
PROMPT = [5, 17, 250, 3, 99, 42, 7, 300, 11]


def tiny_llama() -> LlamaForCausalLM:
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=VOCAB,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        tie_word_embeddings=True,
    )
    return LlamaForCausalLM(config).eval()


def tiny_gpt2() -> GPT2LMHeadModel:
    torch.manual_seed(0)
    config = GPT2Config(n_layer=2, n_embd=64, n_head=4, n_positions=256, vocab_size=VOCAB)
    return GPT2LMHeadModel(config).eval()


def decoder(model: torch.nn.Module, kind: str, slots: int = 4) -> FastDecoder:
    dtype = torch.float32 if kind == "float32" else torch.bfloat16
    return FastDecoder(read_weights(model, kind), slots=slots, max_length=200, dtype=dtype)


def reference_logits(model: torch.nn.Module, ids: list[int]) -> torch.Tensor:
    with torch.inference_mode():
        return model(input_ids=torch.tensor([ids])).logits[0].float()


@pytest.mark.parametrize("build", [tiny_llama, tiny_gpt2], ids=["llama", "gpt2"])
def test_float32_decoder_matches_transformers_step_by_step(build):
    model = build()
    assert unsupported_reason(model) is None
    fast = decoder(model, "float32")
    reference = reference_logits(model, PROMPT)
    with torch.inference_mode():
        first = fast.prefill(0, PROMPT[:5])
        torch.testing.assert_close(first, reference[4], atol=1e-4, rtol=1e-4)
        for position in range(5, len(PROMPT)):
            step = fast.decode([PROMPT[position]], [position])[0]
            torch.testing.assert_close(step, reference[position], atol=1e-4, rtol=1e-4)
        scored = fast.score(PROMPT)
    torch.testing.assert_close(scored, reference, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("build", [tiny_llama, tiny_gpt2], ids=["llama", "gpt2"])
def test_int8_decoder_stays_close_to_transformers(build):
    model = build()
    fast = decoder(model, "int8")
    reference = reference_logits(model, PROMPT)
    with torch.inference_mode():
        logits = fast.prefill(0, PROMPT)
    assert torch.corrcoef(torch.stack([logits, reference[-1]]))[0, 1] > 0.99
    assert int(logits.argmax()) == int(reference[-1].argmax())


@pytest.mark.parametrize("kind", ["auto", "int8", "bfloat16", "float32"])
@pytest.mark.parametrize("crowd", [3, 30])
def test_a_rows_logits_do_not_depend_on_the_rows_beside_it(kind, crowd):
    # The seed promise: the same row alone and in a batch with longer rows, bit for bit, up
    # to more rows than the int8 kernel is used for when reading a prompt.
    fast = decoder(tiny_llama(), kind, slots=crowd)
    with torch.inference_mode():
        fast.prefill(0, PROMPT)
        alone = fast.decode([8], [len(PROMPT)])[0]
        long_prompt = list(range(1, SPAN_QUANTUM + 30))
        fast.prefill(0, PROMPT)
        fast.prefill(1, long_prompt)
        for slot in range(2, crowd):
            fast.prefill(slot, [4, slot])
        crowded = fast.decode([8] * crowd, [len(PROMPT), len(long_prompt), *([2] * (crowd - 2))])
    assert torch.equal(crowded[0], alone)


def test_moving_a_row_down_keeps_its_cache():
    fast = decoder(tiny_gpt2(), "int8", slots=3)
    with torch.inference_mode():
        fast.prefill(0, PROMPT)
        expected = fast.decode([8], [len(PROMPT)])[0]
        fast.prefill(2, PROMPT)
        fast.move(2, 0, len(PROMPT))
        moved = fast.decode([8], [len(PROMPT)])[0]
    assert torch.equal(moved, expected)


def test_auto_packs_4_bit_weights_as_int4_and_others_as_int8():
    torch.manual_seed(1)
    weight = torch.randn(64, 64)
    assert PackedLinear(weight, None, "auto").kind == "int8"
    groups = weight.view(64, 2, 32)
    low = groups.amin(-1, keepdim=True)
    step = (groups.amax(-1, keepdim=True) - low) / 15
    on_grid = (((groups - low) / step).round() * step + low).view(64, 64)
    packed = PackedLinear(on_grid, None, "auto")
    assert packed.kind == "int4"
    x = torch.randn(3, 64).bfloat16()
    torch.testing.assert_close(packed(x).float(), x.float() @ on_grid.T, atol=0.3, rtol=0.02)


def test_odd_widths_fall_back_to_a_kernel_that_takes_them():
    torch.manual_seed(2)
    weight = torch.randn(50, 40)  # neither int kernel takes a width of 40
    linear = PackedLinear(weight, torch.zeros(50), "auto")
    assert linear.kind == "bfloat16"
    x = torch.randn(2, 40)
    torch.testing.assert_close(linear(x.bfloat16()).float(), x @ weight.T, atol=0.2, rtol=0.05)


def test_architectures_it_does_not_know_are_refused_with_a_reason():
    from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

    config = GPTNeoXConfig(
        vocab_size=VOCAB,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
    )
    assert "gpt_neox" in (unsupported_reason(GPTNeoXForCausalLM(config)) or "")
