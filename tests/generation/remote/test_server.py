"""``python -m bot serve`` as any OpenAI client sees it: raw HTTP against the subprocess."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import openai
import pytest

from tests.generation.remote.conftest import LONG
from tests.generation.remote.model_server import model_server


async def post(url: str, path: str, body: dict, headers: dict | None = None):
    async with (
        aiohttp.ClientSession() as session,
        session.post(url + path, json=body, headers=headers) as response,
    ):
        return response.status, response.headers, await response.read()


def events(raw: bytes) -> list:
    lines = [line for line in raw.decode().split("\n\n") if line.startswith("data: ")]
    return [line.removeprefix("data: ") for line in lines]


async def test_models_and_health(server_url):
    async with aiohttp.ClientSession() as session:
        async with session.get(server_url + "/models") as response:
            models = await response.json()
        async with session.get(server_url.removesuffix("/v1") + "/health") as response:
            health = await response.json()
            assert response.status == 200
    (model,) = models["data"]
    assert models["object"] == "list" and model["object"] == "model"
    assert model["max_model_len"] == LONG + 96 and model["inkwell"] == {"chat": False}
    assert health["ready"] and health["model"] == model["id"]


async def test_a_whole_completion_with_n_candidates_and_usage(server_url):
    status, _, raw = await post(
        server_url, "/completions", {"prompt": "Rain", "max_tokens": 6, "seed": 3, "n": 2}
    )
    body = json.loads(raw)
    assert status == 200, body
    assert body["object"] == "text_completion"
    assert [c["index"] for c in body["choices"]] == [0, 1]
    assert body["choices"][0]["text"] != body["choices"][1]["text"]  # seeds 3 and 4
    assert body["choices"][0]["finish_reason"] in ("length", "stop")
    assert body["usage"]["completion_tokens"] <= 12


async def test_a_streamed_completion_is_the_whole_one_in_pieces(server_url):
    request = {"prompt": "Rain", "max_tokens": 20, "seed": 5}
    _, _, whole = await post(server_url, "/completions", request)
    status, headers, raw = await post(
        server_url,
        "/completions",
        {**request, "stream": True, "stream_options": {"include_usage": True}},
    )
    assert status == 200 and headers["Content-Type"].startswith("text/event-stream")
    data = events(raw)
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    text = "".join(c["choices"][0]["text"] for c in chunks if c["choices"])
    assert text == json.loads(whole)["choices"][0]["text"]
    assert len(chunks) > 5
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] <= 20


async def test_stop_strings_cut_and_are_never_streamed(server_url):
    request = {"prompt": "Rain", "max_tokens": 40, "seed": 5}
    _, _, free = await post(server_url, "/completions", request)
    free_text = json.loads(free)["choices"][0]["text"]
    stop = free_text[10:13]
    _, _, raw = await post(server_url, "/completions", {**request, "stop": [stop], "stream": True})
    chunks = [json.loads(d) for d in events(raw)[:-1]]
    text = "".join(c["choices"][0]["text"] for c in chunks)
    assert text == free_text[: free_text.find(stop)]
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


async def test_chat_through_the_official_client(server_url):
    client = openai.AsyncOpenAI(base_url=server_url, api_key="unused")
    try:
        stream = await client.chat.completions.create(
            model=(await client.models.list()).data[0].id,
            messages=[{"role": "user", "content": "Write"}],
            max_tokens=8,
            seed=1,
            stream=True,
        )
        parts = [chunk.choices[0].delta.content async for chunk in stream if chunk.choices]
        whole = await client.chat.completions.create(
            messages=[{"role": "user", "content": "Write"}], model="", max_tokens=8, seed=1
        )
    finally:
        await client.close()
    assert "".join(p or "" for p in parts) == whole.choices[0].message.content
    assert whole.object == "chat.completion"


@pytest.mark.parametrize(
    ("path", "body", "status", "fragment"),
    [
        ("/completions", {"prompt": 5}, 400, "'prompt' must be a string"),
        ("/completions", {"prompt": "x", "temperature": 9}, 400, "temperature must be between"),
        ("/completions", {"prompt": "x", "model": "gpt-9"}, 404, "does not exist"),
        ("/chat/completions", {"messages": []}, 400, "'messages' must be a non-empty list"),
        ("/completions", {"prompt": "x", "tools": [{}]}, 400, "not supported"),
    ],
)
async def test_errors_come_in_openais_shape(server_url, path, body, status, fragment):
    got, _, raw = await post(server_url, path, body)
    error = json.loads(raw)["error"]
    assert got == status
    assert fragment in error["message"] and error["type"] == "invalid_request_error"


async def test_a_client_that_hangs_up_cancels_its_generation(server_url):
    health = server_url.removesuffix("/v1") + "/health"
    async with aiohttp.ClientSession() as session:
        body = {"prompt": "Rain", "max_tokens": LONG, "seed": 1, "stream": True}
        async with session.post(server_url + "/completions", json=body) as response:
            await response.content.readline()
            async with session.get(health) as answer:
                assert (await answer.json())["running"] == 1
        # Leaving the block closes the connection mid-stream.
        for _ in range(40):
            async with session.get(health) as answer:
                if (await answer.json())["running"] == 0:
                    break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the generation went on after its client left")


async def test_an_api_key_is_required_when_set(tmp_path, long_context_model):
    with model_server(tmp_path, long_context_model, api_key="sesame") as url:
        body = {"prompt": "Rain", "max_tokens": 2}
        status, _, raw = await post(url, "/completions", body)
        assert status == 401 and json.loads(raw)["error"]["code"] == "invalid_api_key"
        wrong, _, _ = await post(url, "/completions", body, {"Authorization": "Bearer nope"})
        right, _, _ = await post(url, "/completions", body, {"Authorization": "Bearer sesame"})
        async with aiohttp.ClientSession() as session, session.get(url[:-3] + "/health") as r:
            assert r.status == 200  # monitoring needs no key
    assert (wrong, right) == (401, 200)


async def test_a_candidate_refused_for_a_full_queue_stops_the_others(tmp_path, long_context_model):
    # Three candidates on a server that writes one and queues one: the third is refused, and
    # the answer is that refusal; the two others must not write on for nobody.
    with model_server(
        tmp_path, long_context_model, max_new_tokens_cap=LONG, max_batch_size=1, max_queue=1
    ) as url:
        body = {"prompt": "Rain", "max_tokens": LONG, "seed": 1, "n": 3}
        status, _, raw = await post(url, "/completions", body)
        assert status == 503 and json.loads(raw)["error"]["code"] == "server_busy"
        async with aiohttp.ClientSession() as session:
            # A cancelled row leaves at the next step; one candidate's whole budget takes
            # the tiny model over a second.
            for _ in range(6):
                async with session.get(url.removesuffix("/v1") + "/health") as answer:
                    load = await answer.json()
                if load["running"] == 0 and load["waiting"] == 0:
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError(f"candidates kept writing after the refusal: {load}")
