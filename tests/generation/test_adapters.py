"""Voices: LoRA adapters trained with ``bot.voice.training`` and served per request by the real
service, on each local engine, held to peft's own ``PeftModel`` on the same tiny GPT-2."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest
import torch

from bot.config import GenerationSettings, ModelSettings, VoiceSettings
from bot.errors import InvalidRequest, ModelUnavailable
from bot.generation.adapter_store import AdapterStore, LoadedAdapters
from bot.generation.loading import load_model
from bot.generation.remote.service import RemoteGenerationService
from bot.generation.service import GenerationService
from bot.generation.types import GenerationRequest, SamplingParams
from bot.voice.training import TrainingPlan, load_adapter, save_adapter, train, with_adapter

CORPORA = {
    "harbour": [
        f"The {w} of the harbour sings at dusk, {n} gulls."
        for n, w in enumerate(["lamp", "bell", "rope", "tide", "boat", "net"])
    ],
    "forest": [
        f"Under the {w} pines the moss keeps {n} secrets."
        for n, w in enumerate(["old", "tall", "dark", "wet", "green", "still"])
    ],
}
PROMPT = "The lamp of the harbour"
GREEDY = SamplingParams(temperature=0.0, repetition_penalty=1.0, max_new_tokens=12, seed=1)
ENGINES = ["fast", "torch"]


def fresh_model(tiny_gpt2_dir: Path, cache: Path):
    return load_model(str(tiny_gpt2_dir), cache_dir=cache, dtype="float32", onednn=False)


@pytest.fixture(scope="module")
def voices(tiny_gpt2_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two adapters trained for a few steps (enough for non-zero B's), and a broken one."""
    root = tmp_path_factory.mktemp("voices")
    cache = tmp_path_factory.mktemp("cache")
    for seed, (name, corpus) in enumerate(CORPORA.items()):
        plan = TrainingPlan(
            max_steps=6, learning_rate=3e-2, batch_size=2, block_tokens=16, seed=seed
        )
        loaded = fresh_model(tiny_gpt2_dir, cache)
        model = with_adapter(loaded.model, plan)
        train(model, loaded.tokenizer, corpus, root / f"{name}-run", plan)
        save_adapter(model, root / name, {"name": name})
    broken = root / "broken"
    shutil.copytree(root / "harbour", broken)
    (broken / "adapter_model.safetensors").write_bytes(b"not a safetensors file")
    return root


def reference(tiny_gpt2_dir: Path, cache: Path, voice: Path | None, prompt: str = PROMPT) -> str:
    """What peft's own model writes, greedily."""
    loaded = fresh_model(tiny_gpt2_dir, cache)
    model = loaded.model if voice is None else load_adapter(loaded.model, voice)
    ids = torch.tensor([loaded.tokenizer(prompt)["input_ids"]])
    with torch.no_grad():
        out = model.generate(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=GREEDY.max_new_tokens,
            do_sample=False,
            pad_token_id=loaded.pad_id,
        )
    new = out[0, ids.shape[1] :].tolist()
    return loaded.tokenizer.decode(new, skip_special_tokens=True).rstrip("\ufffd")


async def started(
    tiny_gpt2_dir: Path,
    cache: Path,
    voices: Path,
    engine: str,
    *,
    dtype: str = "float32",
    loaded_adapters: int = 4,
) -> GenerationService:
    service = GenerationService(
        # float32 weights by default on the fast engine: its numbers then follow
        # transformers' closely enough for greedy tokens to agree with peft's.
        ModelSettings(name=str(tiny_gpt2_dir), engine=engine, dtype=dtype, cache_dir=str(cache)),
        GenerationSettings(max_new_tokens_cap=32, max_prompt_tokens=64),
        VoiceSettings(adapters_dir=str(voices), loaded_adapters=loaded_adapters),
    )
    await service.start()
    return service


def ask(
    adapter: str | None, sampling: SamplingParams = GREEDY, prompt: str = PROMPT
) -> GenerationRequest:
    return GenerationRequest(prompt=prompt, sampling=sampling, adapter=adapter)


@pytest.mark.parametrize("engine", ENGINES)
async def test_a_voice_writes_what_peft_writes_and_not_what_the_base_does(
    engine, tiny_gpt2_dir, voices, tmp_path
):
    service = await started(tiny_gpt2_dir, tmp_path, voices, engine)
    try:
        base = await service.generate(ask(None))
        voiced = await service.generate(ask("harbour"))
        by_path = await service.generate(ask(str(voices / "forest")))
    finally:
        await service.close()
    assert base.text == reference(tiny_gpt2_dir, tmp_path, None)
    assert voiced.text == reference(tiny_gpt2_dir, tmp_path, voices / "harbour")
    assert by_path.text == reference(tiny_gpt2_dir, tmp_path, voices / "forest")
    assert voiced.text != base.text and by_path.text != voiced.text
    assert (base.adapter, voiced.adapter, by_path.adapter) == (None, "harbour", "forest")


@pytest.mark.parametrize(
    ("engine", "dtype"), [("fast", "float32"), ("fast", "auto"), ("torch", "float32")]
)
async def test_rows_with_different_voices_in_one_batch_write_what_they_write_alone(
    engine, dtype, tiny_gpt2_dir, voices, tmp_path
):
    # One adapter kept loaded: the second has to join while the first is in use, and the
    # first is read again later. "auto" is the fast engine's int8 weights and bfloat16
    # arithmetic, where adapters are applied in bfloat16 too.
    service = await started(tiny_gpt2_dir, tmp_path, voices, engine, dtype=dtype, loaded_adapters=1)
    sampled = [
        SamplingParams(temperature=1.0, top_k=40, top_p=0.95, max_new_tokens=16, seed=seed)
        for seed in range(6)
    ]
    voices_of_rows = [None, "harbour", "forest", "harbour", None, "forest"]
    requests = [
        ask(voice, sampling, prompt=f"Line {i} of the sea")
        for i, (voice, sampling) in enumerate(zip(voices_of_rows, sampled, strict=True))
    ]
    try:
        alone = [(await service.generate(request)).text for request in requests]
        together = await asyncio.gather(*(service.generate(request) for request in requests))
    finally:
        await service.close()
    assert [result.text for result in together] == alone
    assert len(set(alone)) == len(alone)


@pytest.mark.parametrize("engine", ENGINES)
async def test_a_broken_voice_fails_its_request_alone(engine, tiny_gpt2_dir, voices, tmp_path):
    service = await started(tiny_gpt2_dir, tmp_path, voices, engine)
    try:
        with pytest.raises(InvalidRequest, match="no voice named 'nobody'"):
            await service.generate(ask("nobody"))
        with pytest.raises(InvalidRequest, match="not a voice's name"):
            await service.generate(ask("Bad Name!"))
        results = await asyncio.gather(
            service.generate(ask("harbour")),
            service.generate(ask("broken")),
            service.generate(ask(None)),
            return_exceptions=True,
        )
        again = await service.generate(ask("harbour"))
    finally:
        await service.close()
    voiced, broken, base = results
    assert isinstance(broken, ModelUnavailable)
    assert "'broken' could not be read" in broken.user_message
    assert not isinstance(voiced, BaseException) and not isinstance(base, BaseException)
    assert voiced.text == again.text == reference(tiny_gpt2_dir, tmp_path, voices / "harbour")
    assert base.text == reference(tiny_gpt2_dir, tmp_path, None)


async def test_a_voice_for_another_model_is_refused_with_the_reason(
    tiny_gpt2_dir, voices, tmp_path
):
    stranger = voices.parent / "stranger"
    shutil.copytree(voices / "harbour", stranger, dirs_exist_ok=True)
    config = json.loads((stranger / "adapter_config.json").read_text())
    config["use_dora"] = True
    (stranger / "adapter_config.json").write_text(json.dumps(config))
    service = await started(tiny_gpt2_dir, tmp_path, voices, "fast")
    try:
        with pytest.raises(ModelUnavailable, match="uses DoRA"):
            await service.generate(ask(str(stranger)))
    finally:
        await service.close()


def test_engines_without_voices_refuse_them_before_any_model_is_needed(tmp_path):
    request = ask("harbour")
    ct2 = GenerationService(ModelSettings(engine="ctranslate2"), GenerationSettings())
    with pytest.raises(ModelUnavailable, match="CTranslate2"):
        ct2.prepare(request)
    remote = RemoteGenerationService(ModelSettings(backend="openai"), GenerationSettings())
    with pytest.raises(ModelUnavailable, match="model server"):
        remote.prepare(request)


def test_the_store_finds_voices_by_name_and_lists_them(voices):
    store = AdapterStore(voices)
    assert store.names() == ["broken", "forest", "harbour"]  # training's run folders are not
    assert store.resolve("harbour") == (voices / "harbour").resolve()
    for bad in ("", "a" * 41, "Harbour", "har bour", "../harbour"):
        with pytest.raises(InvalidRequest):
            store.resolve(bad)


def test_the_least_recently_used_voice_goes_first_unless_it_is_in_use():
    dropped: list[str] = []
    cache: LoadedAdapters[int] = LoadedAdapters(2, dropped=lambda key, _: dropped.append(key))
    reads: list[str] = []

    def loader(key: str):
        return lambda: reads.append(key) or len(reads)

    cache.get("a", loader("a"))
    cache.get("b", loader("b"))
    cache.get("a", loader("a"))  # a is now the most recent
    cache.get("c", loader("c"))
    assert dropped == ["b"] and reads == ["a", "b", "c"]
    cache.get("d", loader("d"), in_use=["a", "c"])  # everything else in use: it grows
    assert dropped == ["b"] and "a" in cache and "c" in cache and "d" in cache
    cache.get("e", loader("e"))
    assert dropped == ["b", "a", "c"]
