"""Prometheus metrics, scraped over real HTTP after real generations with the tiny model."""

from __future__ import annotations

import asyncio
import threading

import aiohttp
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from bot.config import GenerationSettings, ModelSettings
from bot.errors import InvalidRequest, ServiceBusy
from bot.generation.service import GenerationService
from bot.generation.types import GenerationRequest, SamplingParams
from bot.ops.metered import MeteredGeneration
from bot.ops.metrics import Metrics, MetricsServer, error_kind


async def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample at /metrics, keyed by name and sorted labels."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}/metrics") as response,
    ):
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        return samples_of(await response.text())


def samples_of(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text exposition, keyed by name and sorted labels."""
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


@pytest.fixture
async def metered(tiny_gpt2_dir):
    metrics = Metrics(CollectorRegistry())
    service = GenerationService(
        ModelSettings(name=str(tiny_gpt2_dir)),
        GenerationSettings(max_new_tokens_cap=48, max_prompt_tokens=64, max_batch_size=1),
    )
    generation = MeteredGeneration(service, metrics)
    await generation.start()
    server = MetricsServer(metrics, "127.0.0.1", 0)
    await server.start()
    try:
        yield generation, server.port
    finally:
        await server.close()
        await generation.close()


def ask(prompt: str = "Autumn rain", stop=None, **sampling) -> GenerationRequest:
    return GenerationRequest(prompt=prompt, sampling=SamplingParams(**sampling), stop=stop)


async def test_a_real_generation_shows_in_the_scraped_histogram_and_token_counts(metered):
    generation, port = metered
    before = await scrape(port)
    assert before[("inkwell_generation_queue_depth", ())] == 0
    result = await generation.generate(ask(seed=1, max_new_tokens=20))
    after = await scrape(port)
    assert after[("inkwell_generation_seconds_count", (("outcome", "ok"),))] == 1
    assert 0 < after[("inkwell_generation_seconds_sum", (("outcome", "ok"),))] < 60
    generated = after[("inkwell_generation_tokens_total", (("kind", "generated"),))]
    assert generated == result.new_tokens > 0
    assert after[("inkwell_generation_tokens_total", (("kind", "prompt"),))] == result.prompt_tokens


async def test_a_refused_request_counts_as_an_error_of_its_kind(metered):
    generation, port = metered
    with pytest.raises(InvalidRequest):
        await generation.generate(ask("word " * 200))
    samples = await scrape(port)
    assert samples[("inkwell_errors_total", (("kind", "prompt_too_long"),))] == 1
    assert samples[("inkwell_generation_seconds_count", (("outcome", "error"),))] == 1


async def test_queue_depth_and_running_are_read_at_each_scrape(metered):
    generation, port = metered
    # The first piece's stop rule holds the worker thread, so the others must wait.
    held, release = threading.Event(), threading.Event()

    def hold(text: str) -> int | None:
        held.set()
        release.wait(30)
        return None

    first = asyncio.create_task(generation.generate(ask(stop=hold, seed=1, max_new_tokens=8)))
    await asyncio.to_thread(held.wait, 30)
    waiting = [
        asyncio.create_task(generation.generate(ask(seed=s, max_new_tokens=8))) for s in (2, 3)
    ]
    await asyncio.sleep(0.05)
    try:
        samples = await scrape(port)
    finally:
        release.set()
    await asyncio.gather(first, *waiting)
    assert samples[("inkwell_generation_running", ())] == 1
    assert samples[("inkwell_generation_queue_depth", ())] == 2
    assert (await scrape(port))[("inkwell_generation_queue_depth", ())] == 0


async def test_two_sets_of_metrics_live_side_by_side():
    first, second = Metrics(CollectorRegistry()), Metrics(CollectorRegistry())
    first.error(ServiceBusy())
    first.error(RuntimeError("a bug"))
    assert b'inkwell_errors_total{kind="service_busy"} 1.0' in first.exposition()
    assert b'inkwell_errors_total{kind="unexpected"} 1.0' in first.exposition()
    assert b"service_busy" not in second.exposition()


def test_error_kinds_are_bounded_class_names():
    assert error_kind(ServiceBusy()) == "service_busy"
    assert error_kind(InvalidRequest("no")) == "invalid_request"
    assert error_kind(KeyError("x")) == "unexpected"


async def test_a_taken_port_is_an_oserror_and_close_frees_the_port():
    metrics = Metrics(CollectorRegistry())
    server = MetricsServer(metrics, "127.0.0.1", 0)
    await server.start()
    clash = MetricsServer(metrics, "127.0.0.1", server.port)
    with pytest.raises(OSError):
        await clash.start()
    await server.close()
    again = MetricsServer(metrics, "127.0.0.1", server.port)
    await again.start()
    await again.close()
