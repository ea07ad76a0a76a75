import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from bot.config import GenerationSettings, ModelSettings
from bot.errors import GenerationFailed, InvalidRequest, ServiceBusy
from bot.generation.service import GenerationService
from bot.generation.types import (
    ChatMessage,
    FinishReason,
    GenerationRequest,
    SamplingParams,
)
from tests.generation.scripted_model import build_scripted_gpt2
from tests.generation.stepping import StepCounter, until, write_every_token


async def started_service(model_dir, **overrides) -> GenerationService:
    settings = GenerationSettings(
        **{"max_new_tokens_cap": 64, "max_prompt_tokens": 64, **overrides}
    )
    service = GenerationService(ModelSettings(name=str(model_dir)), settings)
    await service.start()
    return service


@pytest.fixture
async def service(tiny_gpt2_dir) -> AsyncIterator[GenerationService]:
    service = await started_service(tiny_gpt2_dir)
    yield service
    await service.close()


def request(prompt: str = "Autumn leaves", stop=None, **sampling) -> GenerationRequest:
    return GenerationRequest(prompt=prompt, sampling=SamplingParams(**sampling), stop=stop)


async def test_same_seed_same_text_and_other_seed_differs(service):
    first = await service.generate(request(seed=7, max_new_tokens=24))
    again = await service.generate(request(seed=7, max_new_tokens=24))
    other = await service.generate(request(seed=8, max_new_tokens=24))
    assert first.text == again.text
    assert first.text != other.text
    assert first.sampling.seed == 7
    assert first.model == tiny_model_name(service)


async def test_seed_gives_the_same_text_inside_a_busy_batch(service):
    alone = await service.generate(request(seed=3, max_new_tokens=30))
    crowd = [request(prompt="x" * (i + 1), seed=100 + i, max_new_tokens=20 + i) for i in range(6)]
    results = await asyncio.gather(
        service.generate(request(seed=3, max_new_tokens=30)), *(service.generate(r) for r in crowd)
    )
    assert results[0].text == alone.text


async def test_per_request_parameters_are_honoured_in_one_batch(service):
    requests = [
        request(
            prompt=f"Line {i}", seed=i, max_new_tokens=5 + 7 * i, temperature=0.0 if i % 2 else 1.2
        )
        for i in range(6)
    ]
    results = await asyncio.gather(*(service.generate(r) for r in requests))
    for i, result in enumerate(results):
        assert result.sampling.max_new_tokens == 5 + 7 * i
        assert result.new_tokens <= 5 + 7 * i
        assert result.finish_reason in {FinishReason.LENGTH, FinishReason.EOS}
    greedy = await service.generate(
        request(prompt="Line 1", seed=999, temperature=0.0, max_new_tokens=12)
    )
    assert results[1].text.startswith(greedy.text[:10])  # greedy ignores the seed


async def test_stop_rule_cuts_the_text(service):
    stop_after_ten = GenerationRequest(
        prompt="Once",
        sampling=SamplingParams(seed=1, max_new_tokens=60),
        stop=lambda text: 10 if len(text) >= 10 else None,
    )
    result = await service.generate(stop_after_ten)
    assert result.finish_reason is FinishReason.STOP
    assert len(result.text) == 10


async def test_stream_grows_then_ends_with_the_result(service):
    updates = [u async for u in service.stream(request(seed=5, max_new_tokens=20))]
    assert updates[-1].result is not None
    texts = [u.text for u in updates if u.result is None and u.queue_position is None]
    assert texts, "expected partial text before the end"
    assert updates[-1].result.text.startswith(texts[0][:1])


async def test_leaving_a_stream_takes_its_row_out_of_the_batch_within_a_step(service, monkeypatch):
    write_every_token(service, monkeypatch)  # no row could end early on its own
    rows_seen: list[int] = []  # rows in the batch, recorded at each step of the other row
    gone = StepCounter()
    stays = StepCounter(lambda: rows_seen.append(service.health()["running"]))
    stream = service.stream(request("Gone", seed=1, max_new_tokens=64, stop=gone))
    async for update in stream:
        if update.text:
            break
    other = asyncio.create_task(
        service.generate(request("Stay", seed=2, max_new_tokens=64, stop=stays))
    )
    await until(lambda: stays.steps >= 2)  # both rows are in the batch
    await stream.aclose()
    closed_after, stays_at = gone.steps, stays.steps
    await until(lambda: stays.steps >= stays_at + 8)
    assert gone.steps <= closed_after + 1, (closed_after, gone.steps)
    assert 2 in rows_seen[:stays_at]
    # The step running when the stream closed may still carry the row; the next one cannot.
    assert set(rows_seen[stays_at + 1 :]) == {1}, rows_seen
    assert (await other).new_tokens == 64


async def test_leaving_a_waiting_stream_takes_it_out_of_the_queue(tiny_gpt2_dir, monkeypatch):
    service = await started_service(tiny_gpt2_dir, max_batch_size=1, max_queue=2)
    try:
        write_every_token(service, monkeypatch)
        waiting = StepCounter()
        first = service.stream(request(seed=1, max_new_tokens=64))
        await first.__anext__()  # running, and the only batch slot
        second = service.stream(request(seed=2, max_new_tokens=4, stop=waiting))
        assert (await second.__anext__()).queue_position == 1
        assert service.health()["waiting"] == 1
        await second.aclose()
        assert service.health()["waiting"] == 0  # at once, not when the slot frees
        finals = [u.result async for u in first if u.result is not None]
        assert finals[0].new_tokens == 64
        await until(lambda: service.health()["running"] == 0)
        assert waiting.steps == 0  # it never started
    finally:
        await service.close()


async def test_queue_positions_and_busy_when_full(tiny_gpt2_dir):
    service = await started_service(tiny_gpt2_dir, max_batch_size=1, max_queue=2)
    try:
        first = service.stream(request(seed=1, max_new_tokens=64))
        await first.__anext__()  # running
        second = service.stream(request(seed=2, max_new_tokens=4))
        update = await second.__anext__()
        assert update.queue_position == 1
        third = service.stream(request(seed=3, max_new_tokens=4))
        assert (await third.__anext__()).queue_position == 2
        with pytest.raises(ServiceBusy) as caught:
            await service.generate(request(seed=4))
        assert "try again" in caught.value.user_message
        finals = []
        for stream in (first, second, third):
            async for update in stream:
                if update.result:
                    finals.append(update.result)
        assert len(finals) == 3
    finally:
        await service.close()


async def test_overlong_prompt_is_refused_before_queueing(service):
    with pytest.raises(InvalidRequest, match="tokens long; the limit is 64"):
        await service.generate(request(prompt="word " * 200))


ODD_TEXT = "@everyone @here <@123> <@!123> <@&456> 🌧️ مطر \u200b 雨 \U0001f600\n"


async def test_odd_unicode_and_mentions_round_trip(service, tmp_path):
    prompt = "@everyone <@123> 🌧️ مطر \u200b 雨 " + "\U0001f600"
    result = await service.generate(request(prompt=prompt, seed=2, max_new_tokens=16))
    assert "\ufffd" not in result.text
    # The model itself writes them: multi-byte characters split over tokens never show half
    # done, and the text comes back exactly (mentions untouched: pings are stopped on Discord).
    prompt_tokens = len(service._loaded.tokenizer(prompt, add_special_tokens=False)["input_ids"])
    writer = build_scripted_gpt2(tmp_path / "scripted", ODD_TEXT, first_position=prompt_tokens)
    scripted = await started_service(writer)
    try:
        length = len(scripted._loaded.tokenizer(ODD_TEXT)["input_ids"])
        updates = [u async for u in scripted.stream(request(prompt, seed=2, max_new_tokens=length))]
    finally:
        await scripted.close()
    assert updates[-1].result is not None and updates[-1].result.text == ODD_TEXT
    assert all(ODD_TEXT.startswith(u.text) and "\ufffd" not in u.text for u in updates)


async def test_chat_messages_fall_back_to_text_for_base_models(service):
    chat = GenerationRequest(
        messages=(ChatMessage("system", "Be brief."), ChatMessage("user", "Write about rain.")),
        sampling=SamplingParams(seed=1, max_new_tokens=8),
    )
    result = await service.generate(chat)
    assert result.prompt_tokens == len(service._loaded.tokenizer("Write about rain.")["input_ids"])


async def test_event_loop_keeps_ticking_during_generation(service):
    gaps: list[float] = []

    async def ticker() -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    tick = asyncio.create_task(ticker())
    await asyncio.gather(*(service.generate(request(seed=i, max_new_tokens=64)) for i in range(8)))
    tick.cancel()
    assert len(gaps) >= 5
    # A blocked loop would show one gap as long as the whole generation.
    assert max(gaps) < 0.25, f"event loop stalled for {max(gaps):.3f}s"


def tiny_model_name(service: GenerationService) -> str:
    return service.info.name


async def test_a_failed_prefill_fails_only_the_new_request(service, monkeypatch):
    engine = service._engine
    running = service.stream(request(seed=1, max_new_tokens=64))
    await running.__anext__()  # a row is being written
    batch = engine._batch
    real_prefill = batch.prefill

    def broken_prefill(prompts, adapters=None):
        if any(len(prompt) > 20 for prompt in prompts):
            raise RuntimeError("simulated failure while reading the prompt")
        return real_prefill(prompts, adapters)

    monkeypatch.setattr(batch, "prefill", broken_prefill)
    with pytest.raises(GenerationFailed, match="please try again"):
        await asyncio.wait_for(service.generate(request(prompt="word " * 30, seed=2)), 10)
    results = [u.result async for u in running if u.result is not None]
    assert results and results[0].finish_reason is FinishReason.LENGTH
    again = await asyncio.wait_for(service.generate(request(seed=3, max_new_tokens=4)), 10)
    assert again.new_tokens == 4 or again.finish_reason is FinishReason.EOS
