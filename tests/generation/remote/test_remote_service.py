"""The remote backend against a real ``python -m bot serve`` subprocess, over HTTP.

Where a test needs the network to misbehave (a 503, a 400), a ``Relay`` sits between the two:
a real HTTP server that fails on purpose, then passes requests through.
"""

from __future__ import annotations

import asyncio
import itertools
import time

import aiohttp
import pytest

from bot.errors import GenerationFailed, InvalidRequest, ModelUnavailable, ServiceBusy
from bot.generation.types import ChatMessage, FinishReason, GenerationRequest, SamplingParams
from tests.generation.remote.conftest import LONG, remote
from tests.generation.remote.model_server import relay


def request(prompt: str = "Autumn leaves", stop=None, constraint=None, **sampling):
    return GenerationRequest(
        prompt=prompt, sampling=SamplingParams(**sampling), stop=stop, constraint=constraint
    )


async def server_health(url: str) -> dict:
    async with (
        aiohttp.ClientSession() as session,
        session.get(url.removesuffix("/v1") + "/health") as r,
    ):
        return await r.json()


async def test_text_streams_in_as_it_is_written(server_url):
    async with remote(server_url) as service:
        seen: list[tuple[float, str]] = []
        async for update in service.stream(request(seed=1, max_new_tokens=40)):
            if update.result is None:
                seen.append((time.perf_counter(), update.text))
            else:
                result = update.result
    assert len(seen) >= 10  # many updates, not one at the end
    texts = [text for _, text in seen]
    assert all(b.startswith(a) for a, b in itertools.pairwise(texts))
    assert seen[-1][0] - seen[0][0] > 0  # spread over time
    assert result.text.startswith(texts[-1])
    assert result.finish_reason in (FinishReason.LENGTH, FinishReason.EOS)
    assert result.new_tokens <= 40 and result.sampling.seed == 1


async def test_same_seed_same_text_and_another_seed_differs(server_url):
    async with remote(server_url) as service:
        first = await service.generate(request(seed=7, max_new_tokens=24))
        again = await service.generate(request(seed=7, max_new_tokens=24))
        other = await service.generate(request(seed=8, max_new_tokens=24))
    assert first.text == again.text != other.text
    assert first.model == service.info.name


async def test_stop_rule_cuts_the_streamed_text_and_ends_the_request(server_url):
    def stop_after_twenty(text: str) -> int | None:
        return 20 if len(text) >= 25 else None

    async with remote(server_url) as service:
        started = time.perf_counter()
        result = await service.generate(
            request(stop=stop_after_twenty, seed=2, max_new_tokens=LONG)
        )
        elapsed = time.perf_counter() - started
        await asyncio.sleep(0.3)
        health = await server_health(server_url)
    assert result.finish_reason is FinishReason.STOP
    assert len(result.text) == 20
    assert elapsed < 5  # it did not write the 4,000 tokens it was allowed
    assert health["running"] == 0  # and the server stopped writing too


async def test_leaving_the_stream_early_frees_the_servers_slot(server_url):
    async with remote(server_url) as service:
        stream = service.stream(request(seed=3, max_new_tokens=LONG))
        async for update in stream:
            if len(update.text) > 10:
                break
        assert (await server_health(server_url))["running"] == 1  # still being written
        await stream.aclose()
        freed = False
        for _ in range(40):
            health = await server_health(server_url)
            if health["running"] == 0 and health["waiting"] == 0:
                freed = True
                break
            await asyncio.sleep(0.05)
        assert freed, health
        assert service.health()["running"] == 0


async def test_chat_messages_go_to_chat_completions(server_url, monkeypatch):
    async with remote(server_url, remote_prompts="chat") as service:
        assert service.info.chat
        result = await service.generate(
            GenerationRequest(
                messages=(ChatMessage("user", "Write about rain"),),
                sampling=SamplingParams(seed=4, max_new_tokens=12),
            )
        )
    assert result.text and result.new_tokens <= 12


async def test_a_base_model_is_prompted_by_continuation_when_auto(server_url):
    async with remote(server_url) as service:
        assert service.info.chat is False  # bot serve says so at /v1/models
        assert service.info.context_window == LONG + 96
        result = await service.generate(
            GenerationRequest(
                messages=(ChatMessage("system", "be kind"), ChatMessage("user", "Rain")),
                sampling=SamplingParams(seed=4, max_new_tokens=12),
            )
        )
        plain = await service.generate(request("Rain", seed=4, max_new_tokens=12))
    assert result.text == plain.text  # the user's words continued, as the local engine does


async def test_a_base_url_without_v1_works(server_url):
    bare = server_url.removesuffix("/v1")
    async with remote(bare) as service:
        assert service.base_url == server_url
        assert (await service.generate(request(seed=1, max_new_tokens=5))).text


async def test_a_503_is_retried_with_backoff_then_succeeds(server_url):
    async with relay(server_url, fail_next=2, fail_status=503) as peer, remote(peer.url) as service:
        result = await service.generate(request(seed=5, max_new_tokens=8))
    assert result.text
    assert peer.posts == 3
    assert peer.statuses == [503, 503, 200]


async def test_retries_give_up_after_max_retries_with_a_busy_message(server_url):
    async with relay(server_url) as peer, remote(peer.url, max_retries=1) as service:
        peer.fail_next, peer.fail_status = 5, 429
        with pytest.raises(ServiceBusy, match="model server is busy"):
            await service.generate(request(seed=5, max_new_tokens=8))
    assert peer.posts == 2


@pytest.mark.parametrize("status", [400, 404])
async def test_a_client_error_is_not_retried(server_url, status):
    async with relay(server_url) as peer, remote(peer.url, max_retries=3) as service:
        peer.fail_next, peer.fail_status = 1, status
        expected = InvalidRequest if status == 400 else GenerationFailed
        with pytest.raises(expected):
            await service.generate(request(seed=5, max_new_tokens=8))
        assert peer.posts == 1
        # The next request goes through: nothing was left broken.
        assert (await service.generate(request(seed=5, max_new_tokens=4))).text


async def test_the_servers_own_400_reaches_the_user_as_invalid_request(server_url):
    # About 75 tokens by the client's estimate, 150 by the server's tokenizer (limit 96).
    async with remote(server_url) as service:
        with pytest.raises(
            InvalidRequest, match=r"refused that request: That prompt is 1\d\d tokens"
        ):
            await service.generate(request("7 " * 150, seed=1, max_new_tokens=4))


async def test_the_total_deadline_fires_while_text_is_still_arriving(server_url):
    async with remote(server_url, request_timeout=0.6, read_timeout=30.0) as service:
        started = time.perf_counter()
        with pytest.raises(GenerationFailed, match=r"longer than 0\.6 s"):
            await service.generate(request(seed=6, max_new_tokens=LONG))
        assert time.perf_counter() - started < 3
    await asyncio.sleep(0.3)
    assert (await server_health(server_url))["running"] == 0  # the server was told, too


async def test_at_most_max_batch_size_requests_are_in_flight(server_url):
    async with relay(server_url) as peer, remote(peer.url, max_batch_size=2) as service:
        positions: list[int] = []

        async def write(seed: int) -> str:
            text = ""
            async for update in service.stream(request(seed=seed, max_new_tokens=30)):
                if update.queue_position is not None:
                    positions.append(update.queue_position)
                if update.result is not None:
                    text = update.result.text
            return text

        texts = await asyncio.gather(*(write(seed) for seed in range(5)))
    assert all(texts)
    assert peer.most_in_flight == 2
    assert sorted(positions) == [1, 2, 3]  # the three that waited were told their place


async def test_a_full_line_is_refused_as_busy(server_url):
    async with remote(server_url, max_batch_size=1, max_queue=1) as service:
        running = service.stream(request(seed=1, max_new_tokens=LONG))
        await anext(running)
        waiting = service.stream(request(seed=2, max_new_tokens=5))
        assert (await anext(waiting)).queue_position == 1
        with pytest.raises(ServiceBusy):
            await service.generate(request(seed=3, max_new_tokens=5))
        await running.aclose()
        await waiting.aclose()
        assert service.health()["running"] == 0 and service.health()["waiting"] == 0


async def test_an_unknown_model_is_named_with_what_is_served(server_url):
    with pytest.raises(ModelUnavailable, match=r"does not serve 'nope'.*it serves"):
        async with remote(server_url, remote_model="nope"):
            pass


async def test_an_unreachable_server_says_so_at_start():
    with pytest.raises(ModelUnavailable, match="can't reach"):
        async with remote("http://127.0.0.1:9/v1", max_retries=0, connect_timeout=1.0):
            pass


async def test_score_reads_the_servers_log_probabilities(server_url):
    async with remote(server_url) as service:
        score = await service.score("The quiet pond")
    assert [t.text for t in score.tokens] == ["The", " quiet", " pond"]
    assert all(t.logprob < 0 for t in score.tokens)
    assert score.perplexity > 1


class OnlyThis:
    """A form only one text keeps: the constraint's protocol, with a known answer."""

    def __init__(self, wanted: str) -> None:
        self.wanted = wanted

    def allowed(self, text, candidates):
        return [self.wanted.startswith(text + c) for c in candidates]

    def may_end(self, text):
        return text == self.wanted

    def rescue(self, text):
        return []


async def test_a_form_is_kept_by_choosing_among_n_candidates(server_url):
    async with relay(server_url) as peer, remote(peer.url, best_of=4) as service:
        # bot serve seeds candidate i with seed + i: each can be written alone to know it.
        alone = [
            (await service.generate(request(seed=10 + i, max_new_tokens=12))).text for i in range(4)
        ]
        assert len(set(alone)) == 4
        result = await service.generate(
            request(seed=10, max_new_tokens=12, constraint=OnlyThis(alone[2]))
        )
    assert result.text == alone[2]
    assert result.sampling.seed == 10
    assert peer.candidates_asked == [1, 1, 1, 1, 4]


async def test_a_server_that_refuses_n_writes_one_candidate_from_then_on(server_url):
    async with relay(server_url, refuse_n=True) as peer, remote(peer.url, best_of=4) as service:
        plain = await service.generate(request(seed=10, max_new_tokens=12))
        form = OnlyThis("never written")
        first = await service.generate(request(seed=10, max_new_tokens=12, constraint=form))
        second = await service.generate(request(seed=10, max_new_tokens=12, constraint=form))
    assert first.text == second.text == plain.text  # the one candidate there is
    assert peer.candidates_asked == [1, 4, 1, 1]
