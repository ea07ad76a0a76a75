"""A tiny random GPT-2 dressed as a chat model: the real GPT-2 tokenizer with a ChatML
template, so chat-style prompting runs through the same loader and engine as SmolLM2."""

from __future__ import annotations

from pathlib import Path

from tests.tiny_models import build_tiny_gpt2

CHATML = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_tiny_chat_model(directory: Path, *, seed: int = 1) -> Path:
    """Save a tiny random GPT-2 whose tokenizer carries a chat template."""
    from transformers import AutoTokenizer

    build_tiny_gpt2(directory, seed=seed)
    tokenizer = AutoTokenizer.from_pretrained(directory)
    tokenizer.chat_template = CHATML
    tokenizer.save_pretrained(directory)
    return directory
