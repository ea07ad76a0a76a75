"""Both engines behind the same service API: the torch reference and the optional CTranslate2."""

import asyncio

import pytest

from bot.config import GenerationSettings, ModelSettings
from bot.errors import GenerationFailed
from bot.generation.service import GenerationService
from bot.generation.types import FinishReason, GenerationRequest, SamplingParams
from tests.generation.stepping import StepCounter, until, write_every_token

ENGINES = [
    "torch",
    pytest.param(
        "ctranslate2",
        marks=pytest.mark.skipif(
            __import__("importlib.util").util.find_spec("ctranslate2") is None,
            reason="ctranslate2 is optional",
        ),
    ),
]


@pytest.fixture(params=ENGINES)
async def service(request, tiny_gpt2_dir, tmp_path_factory):
    settings = GenerationSettings(max_new_tokens_cap=64, max_prompt_tokens=64)
    model = ModelSettings(
        name=str(tiny_gpt2_dir),
        engine=request.param,
        cache_dir=str(tmp_path_factory.getbasetemp() / "cache"),
    )
    service = GenerationService(model, settings)
    await service.start()
    yield service
    await service.close()


def ask(prompt="Autumn leaves", stop=None, **sampling) -> GenerationRequest:
    return GenerationRequest(prompt=prompt, sampling=SamplingParams(**sampling), stop=stop)


async def test_mixed_parameters_in_one_batch_give_valid_text(service):
    requests = [
        ask(
            f"Line {i}",
            seed=i,
            max_new_tokens=4 + 6 * i,
            temperature=[0.0, 0.7, 1.3][i % 3],
            top_k=[1, 20, 200][i % 3],
            top_p=[1.0, 0.9, 0.5][i % 3],
        )
        for i in range(7)
    ]
    results = await asyncio.gather(*(service.generate(r) for r in requests))
    for i, result in enumerate(results):
        assert result.finish_reason in {FinishReason.LENGTH, FinishReason.EOS}
        assert 1 <= result.new_tokens <= 4 + 6 * i
        assert result.text and not result.text.endswith("\ufffd")  # random weights may mix bytes
        assert result.sampling.max_new_tokens == 4 + 6 * i
    assert results[-1].new_tokens > results[0].new_tokens  # short rows left, long ones went on


async def test_greedy_is_deterministic_alone_and_in_a_crowd(service):
    alone = await service.generate(ask("Rain", temperature=0.0, max_new_tokens=20))
    crowd = [ask(f"crowd {i}", seed=i, temperature=0.0, max_new_tokens=30) for i in range(5)]
    results = await asyncio.gather(
        service.generate(ask("Rain", temperature=0.0, max_new_tokens=20)),
        *(service.generate(r) for r in crowd),
    )
    assert results[0].text == alone.text


async def test_stop_rule_ends_one_row_and_leaves_the_others_running(service):
    stop = ask("Once", stop=lambda text: 5 if len(text) >= 5 else None, seed=1, max_new_tokens=60)
    others = [
        asyncio.create_task(service.generate(ask(f"Stay {i}", seed=i, max_new_tokens=40)))
        for i in range(3)
    ]
    stopped = await service.generate(stop)
    finished = await asyncio.gather(*others)
    assert stopped.finish_reason is FinishReason.STOP and len(stopped.text) == 5
    assert all(r.finish_reason in {FinishReason.LENGTH, FinishReason.EOS} for r in finished)


async def test_closing_a_stream_stops_its_row_within_a_step(service, monkeypatch):
    # Both rows ignore the end token, so without cancellation the closed one would write all
    # 64 tokens, step for step with the row that stays.
    write_every_token(service, monkeypatch)
    gone, stays = StepCounter(), StepCounter()
    stream = service.stream(ask("Gone", stop=gone, seed=2, max_new_tokens=64))
    other = asyncio.create_task(
        service.generate(ask("Stay", stop=stays, seed=3, max_new_tokens=64))
    )
    async for update in stream:
        if update.text:
            break
    await stream.aclose()  # the user went away
    closed_after, stays_at = gone.steps, stays.steps
    await until(lambda: stays.steps >= stays_at + 8)
    # At most the token being written when the stream closed; none in the 8 steps after.
    assert gone.steps <= closed_after + 1, (closed_after, gone.steps)
    kept = await other
    assert kept.finish_reason is FinishReason.LENGTH and kept.new_tokens == 64
    await until(lambda: service.health()["running"] == 0)


async def test_ignore_eos_writes_exactly_max_new_tokens(service):
    original = service.prepare

    def prepare(request):
        job = original(request)
        job.ignore_eos = True
        return job

    service.prepare = prepare
    results = await asyncio.gather(
        *(service.generate(ask(seed=i, max_new_tokens=17)) for i in range(3))
    )
    assert [r.new_tokens for r in results] == [17, 17, 17]


async def test_a_stop_rule_that_raises_fails_only_its_row(service, monkeypatch):
    write_every_token(service, monkeypatch)
    # Greedy, so that the text the good row writes alone is the text it must write beside
    # the broken one on either engine (CTranslate2 samples a wave with one generator).
    expected = await service.generate(ask("Stays", temperature=0.0, max_new_tokens=20))

    def breaks(text: str) -> int | None:
        raise ValueError("a stop rule that breaks")

    bad = service.generate(ask("Breaks", temperature=0.0, max_new_tokens=20, stop=breaks))
    good = service.generate(ask("Stays", temperature=0.0, max_new_tokens=20))
    outcomes = await asyncio.wait_for(asyncio.gather(bad, good, return_exceptions=True), 30)
    assert isinstance(outcomes[0], GenerationFailed), outcomes[0]
    assert "try again" in outcomes[0].user_message
    assert outcomes[1].text == expected.text
    assert outcomes[1].finish_reason is FinishReason.LENGTH
    assert (await service.generate(ask(seed=3, max_new_tokens=4))).new_tokens == 4
