import pytest
import torch
from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

from bot.generation.loading import load_model
from bot.generation.onednn import OneDnnLinear, use_onednn_linears

pytestmark = pytest.mark.skipif(
    not torch.backends.mkldnn.is_available(), reason="oneDNN is not built into this torch"
)


def test_loaded_float32_gpt2_runs_on_onednn_with_the_same_logits(tiny_gpt2_dir, tmp_path):
    loaded = load_model(str(tiny_gpt2_dir), cache_dir=tmp_path, dtype="float32")
    assert any(isinstance(m, OneDnnLinear) for m in loaded.model.modules())
    reference = AutoModelForCausalLM.from_pretrained(tiny_gpt2_dir).eval()
    ids = torch.tensor([[15496, 995, 11, 257, 1332], [464, 3797, 318, 257, 220]])
    with torch.inference_mode():
        expected = reference(input_ids=ids).logits
        actual = loaded.model(input_ids=ids).logits
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-4)


def test_llama_linears_without_bias_are_converted_exactly():
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=300,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
    )
    model = LlamaForCausalLM(config).eval()
    ids = torch.randint(0, 300, (3, 7))
    with torch.inference_mode():
        expected = model(input_ids=ids).logits
        replaced = use_onednn_linears(model)
        actual = model(input_ids=ids).logits
    assert replaced == 2 * 7 + 1  # q, k, v, o, gate, up, down per layer, and the head
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-4)


def test_bfloat16_models_are_left_alone(tiny_gpt2_dir, tmp_path):
    loaded = load_model(str(tiny_gpt2_dir), cache_dir=tmp_path, dtype="bfloat16")
    assert not any(isinstance(m, OneDnnLinear) for m in loaded.model.modules())
