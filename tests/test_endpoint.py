"""Endpoint: URLs, the API-key header, the models check, /tokenize, and probes cached on the endpoint.

The server side is an httpx.MockTransport passed in (the endpoint's seam); the real-server tier is in
test_chat_integration.py.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time

import httpx
import pytest

from nanokit import ConfigError, Endpoint, ServerError, VLLMServer, attach
from nanokit.bench import BenchmarkConfig, check_server
from nanokit.endpoint import ServerFeatures, endpoint_of


class FakeVLLM:
    """Answers like vLLM: /v1/models, /health, /tokenize, /detokenize, and the 1-token probe."""

    def __init__(self, *, reasoning_parser: bool = True, key: str | None = None, models=("tiny",)) -> None:
        self.reasoning_parser, self.key, self.models = reasoning_parser, key, list(models)
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        if self.key and request.headers.get("authorization") != f"Bearer {self.key}":
            return httpx.Response(401, json={"error": "bad key"})
        path = request.url.path
        if path == "/v1/models":
            return httpx.Response(200, json={"data": [{"id": name} for name in self.models]})
        if path == "/health":
            return httpx.Response(200)
        body = json.loads(request.content or b"{}")
        if path == "/tokenize":
            text = body.get("prompt") or json.dumps(body["messages"])
            return httpx.Response(200, json={"tokens": [ord(c) for c in text], "count": len(text)})
        if path == "/detokenize":
            return httpx.Response(200, json={"prompt": "".join(map(chr, body["tokens"]))})
        if path == "/v1/chat/completions":
            if self.reasoning_parser:
                return httpx.Response(200, json={"choices": []})
            return httpx.Response(400, json={"message": "thinking_token_budget needs reasoning_config"})
        return httpx.Response(404)


def test_urls_and_the_one_auth_header_reach_every_request():
    server = FakeVLLM(key="sekrit")
    endpoint = Endpoint("http://h.test:8000/v1/", api_key="sekrit", transport=httpx.MockTransport(server))
    assert (endpoint.base_url, endpoint.root_url) == ("http://h.test:8000/v1", "http://h.test:8000")
    assert endpoint.model_name == "tiny" and endpoint.health()
    endpoint.client().models.list()  # the openai client goes through the same transport and key
    assert {r.headers["authorization"] for r in server.seen} == {"Bearer sekrit"}
    assert Endpoint("http://h.test/v1").headers() == {}


def test_models_check_says_what_is_wrong_in_one_sentence():
    wrong_key = Endpoint("http://h.test/v1", api_key="nope", transport=httpx.MockTransport(FakeVLLM(key="k")))
    with pytest.raises(ServerError, match="refused the API key"):
        wrong_key.models()
    empty = Endpoint("http://h.test/v1", transport=httpx.MockTransport(FakeVLLM(models=())))
    with pytest.raises(ServerError, match="serves no models"):
        empty.models()
    elsewhere = Endpoint("http://h.test/api", transport=httpx.MockTransport(FakeVLLM()))
    with pytest.raises(ServerError, match="answered HTTP 404; check the URL"):
        elsewhere.models()


def test_attach_picks_the_model_and_returns_an_endpoint():
    transport = httpx.MockTransport(FakeVLLM(models=("a", "b")))
    assert attach("http://h.test/v1", transport=transport).model_name == "a"
    endpoint = attach("http://h.test/v1", model="b", transport=transport)
    assert type(endpoint) is Endpoint and endpoint.model_name == "b"
    with pytest.raises(ConfigError, match="does not serve 'c'; it serves a, b"):
        attach("http://h.test/v1", model="c", transport=transport)


def test_attach_and_the_benchmark_check_word_failures_the_same():
    transport = httpx.MockTransport(FakeVLLM(models=("a",)))
    with pytest.raises(ConfigError) as sync_error:
        attach("http://h.test/v1", model="z", transport=transport)
    with pytest.raises(ConfigError) as async_error:
        asyncio.run(check_server("http://h.test/v1", "z", transport=transport))
    assert str(sync_error.value) == str(async_error.value)


def test_attach_to_nothing_fails_fast_with_one_sentence():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(ServerError, match=f"Cannot reach http://127.0.0.1:{port}/v1"):
        attach(f"http://127.0.0.1:{port}/v1")
    assert time.monotonic() - started < 5


def test_tokenize_text_and_messages_and_detokenize():
    server = FakeVLLM()
    endpoint = Endpoint("http://h.test/v1", model_name="tiny", transport=httpx.MockTransport(server))
    assert endpoint.detokenize(endpoint.tokenize("hi")) == "hi"
    messages = [{"role": "user", "content": "q"}]
    tool = {"type": "function", "function": {"name": "f", "parameters": {}}}
    endpoint.tokenize(messages=messages, tools=[tool], chat_template_kwargs={"enable_thinking": True})
    body = json.loads(server.seen[-1].content)
    assert body == {"model": "tiny", "messages": messages, "add_generation_prompt": True, "tools": [tool],
                    "chat_template_kwargs": {"enable_thinking": True}}
    assert json.loads(server.seen[0].content)["add_special_tokens"] is False
    with pytest.raises(ConfigError, match="either text or messages"):
        endpoint.tokenize("x", messages=messages)


def test_features_are_probed_once_per_endpoint_and_forgotten_on_request():
    server = FakeVLLM(reasoning_parser=True)
    endpoint = Endpoint("http://h.test/v1", model_name="tiny", transport=httpx.MockTransport(server))
    assert endpoint.features() == ServerFeatures(reasoning_parser=True, thinking_budget=True)
    endpoint.features()
    endpoint.reasoning_end_ids()
    endpoint.reasoning_end_ids()
    paths = [r.url.path for r in server.seen]
    assert paths.count("/v1/chat/completions") == 1 and paths.count("/tokenize") == 2  # </think>, <tool_call>
    server.reasoning_parser = False  # the same port, restarted without --reasoning-parser
    assert endpoint.features().reasoning_parser is True  # still the cached answer...
    endpoint.forget()
    assert endpoint.features() == ServerFeatures(reasoning_parser=False, thinking_budget=False)
    endpoint.note_no_tool_parser()
    assert endpoint.features().tool_parser is False


def test_a_server_has_an_endpoint_and_each_start_makes_a_fresh_one(monkeypatch):
    server = VLLMServer(port=8123, api_key="k")
    endpoint = server.endpoint
    assert endpoint is server.endpoint and endpoint_of(server) is endpoint
    assert (endpoint.base_url, endpoint.api_key, endpoint.model_name) == (server.base_url, "k", server.model_name)
    # start() without vLLM: the model, the spawn and the health wait are what is replaced here
    monkeypatch.setattr(server, "_resolve_model_path", lambda: "/models/x")
    monkeypatch.setattr(server, "_pick_port", lambda: None)
    monkeypatch.setattr(server, "_spawn", lambda argv: setattr(server, "started_at", time.monotonic()))
    monkeypatch.setattr(server, "_wait_healthy", lambda timeout, status: None)
    server.start()
    assert server.endpoint is not endpoint and server.endpoint.base_url == endpoint.base_url  # probes start afresh
    server.stop()


def test_a_benchmark_config_takes_the_endpoint_of_a_server():
    server = VLLMServer(port=8124, api_key="k", served_model_name="tiny")
    config = BenchmarkConfig.against(server, max_concurrency=2)
    assert (config.base_url, config.model, config.api_key, config.max_concurrency) == (
        "http://127.0.0.1:8124/v1", "tiny", "k", 2)
