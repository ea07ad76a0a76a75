"""Inkwell's own decoder for the model families it serves (Llama-style, such as the bundled
SmolLM2, and GPT-2): int8 weights, a KV cache of fixed slots, and a forward pass written for one
token per row, so a decoding step costs little more than reading the weights once.

The transformers engine stays for other architectures; ``fast_decoder_for`` says which.
"""
