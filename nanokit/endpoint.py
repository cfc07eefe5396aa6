"""One OpenAI-compatible endpoint: where it is, the key it wants, what it serves and what it can do.

`Endpoint` is what chat, the tool loop, the agents, the benchmark and the views talk to. It owns:

- the URLs: `base_url` (the OpenAI API root, ending in /v1) and `root_url` (where vLLM serves /health,
  /metrics, /tokenize and /detokenize, outside /v1). `api_root` is the one place a URL a user typed becomes
  the API root: the server root (`http://host:8000`, as `vllm bench serve --base-url` takes it) gets `/v1`,
  a URL that names a path (`.../v1`, a proxy's `/openai/v1`) is kept as it is;
- the API-key header (`auth_headers`, the one place a `Bearer` header is built);
- the models check (`models()`, `attach()`, and the benchmark's async check share one set of messages);
- the tokenizer endpoints: `/tokenize` of text or of chat messages (with tools), `/detokenize`;
- a feature probe (`features()`: whether the server runs a reasoning parser and takes
  `thinking_token_budget`, whether it has a tool parser) and the token ids of the markers that end the
  reasoning, both cached on the object. `VLLMServer` builds a fresh `Endpoint` on every start, so a
  server restarted with other flags is probed again.

Network seams are passed in: `Endpoint(url, transport=httpx.MockTransport(handler))` sends every
request (the openai client's included) through that transport.

Anything that *has* an endpoint (a `VLLMServer`: `server.endpoint`) can be given where an `Endpoint` is
expected; `endpoint_of` resolves it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
import openai

from nanokit.errors import ConfigError, ServerError, argument
from nanokit.parsing import THINK_END, TOOL_START


def api_root(url: str) -> str:
    """The OpenAI API root for a URL a user gave: `/v1` added to a bare server root, any other path kept."""
    text = url.strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{url!r} is not an http(s) URL; pass the server's address, such as "
                          "http://127.0.0.1:8000 or http://127.0.0.1:8000/v1.")
    return text if parts.path else f"{text}/v1"


def auth_headers(api_key: str | None) -> dict[str, str]:
    """The header vLLM's `--api-key` (and any OpenAI-compatible server) checks; none without a key."""
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


def unreachable(base_url: str, error: Exception) -> ServerError:
    return ServerError(f"Cannot reach {base_url} ({type(error).__name__}); check the URL (the server's root, "
                       "or its API root ending in /v1) and that the server is running.")


def served_models(response: httpx.Response, base_url: str) -> list[str]:
    """The model names in an answer to GET {base_url}/models, or a ServerError saying why there are none."""
    url = f"{base_url.rstrip('/')}/models"
    if response.status_code == 401:
        raise ServerError(f"{base_url} refused the API key (401); pass the key the server was started with.")
    if response.status_code != 200:
        raise ServerError(f"{url} answered HTTP {response.status_code}; check the URL (the server's root, "
                          "or its API root ending in /v1) and the API key.")
    try:
        names = [entry["id"] for entry in response.json()["data"]]
    except (ValueError, KeyError, TypeError):
        raise ServerError(f"{url} did not return a model list; is {base_url} an OpenAI-compatible API?") from None
    if not names:
        raise ServerError(f"The server at {base_url} serves no models; start it with a model.")
    return names


def pick_model(served: Sequence[str], model: str | None, base_url: str) -> str:
    """`model` if the server serves it (its first model when None), else a ConfigError naming what it serves."""
    if model is None:
        return served[0]
    if model not in served:
        raise ConfigError(f"The server at {base_url} does not serve {model!r}; it serves {', '.join(served)}. "
                          f"Pass one of those as {argument('model')}.")
    return model


@dataclass(frozen=True)
class ServerFeatures:
    """What a server does with reasoning and tool calls, as the probe found it."""

    reasoning_parser: bool
    thinking_budget: bool
    tool_parser: bool | None = None  # learnt from the first request with tools


class Endpoint:
    """An OpenAI-compatible endpoint: URLs, API key, served model name, clients and probes bound to them."""

    def __init__(self, base_url: str, *, api_key: str | None = None, model_name: str | None = None,
                 transport: httpx.BaseTransport | None = None, features: ServerFeatures | None = None) -> None:
        self.base_url = api_root(base_url)
        self.api_key = api_key
        self.transport = transport
        self._model_name = model_name
        self._features = features
        self._end_ids: tuple[tuple[int, ...], ...] | None = None
        self._http: httpx.Client | None = None
        self._lock = threading.Lock()

    @property
    def root_url(self) -> str:
        """The server root (where vLLM serves /health, /metrics, /tokenize)."""
        return self.base_url.removesuffix("/v1")

    @property
    def model_name(self) -> str:
        """The served model name given when the endpoint was made, else the first one the server lists."""
        if self._model_name is None:
            self._model_name = self.models()[0]
        return self._model_name

    def with_model(self, model_name: str) -> Endpoint:
        """The same endpoint (URL, key, transport) for another served model; probes start afresh."""
        return Endpoint(self.base_url, api_key=self.api_key, model_name=model_name, transport=self.transport)

    def headers(self) -> dict[str, str]:
        return auth_headers(self.api_key)

    # --- clients -------------------------------------------------------------------------------

    def client(self, **kwargs: Any) -> openai.OpenAI:
        """An `openai.OpenAI` client bound to this endpoint (no retries unless asked for)."""
        kwargs.setdefault("max_retries", 0)
        if self.transport is not None:
            kwargs.setdefault("http_client", httpx.Client(transport=self.transport))
        return openai.OpenAI(base_url=self.base_url, api_key=self.api_key or "EMPTY", **kwargs)

    def async_client(self, **kwargs: Any) -> openai.AsyncOpenAI:
        """An `openai.AsyncOpenAI` client bound to this endpoint."""
        kwargs.setdefault("max_retries", 0)
        if isinstance(self.transport, httpx.AsyncBaseTransport):
            kwargs.setdefault("http_client", httpx.AsyncClient(transport=self.transport))
        return openai.AsyncOpenAI(base_url=self.base_url, api_key=self.api_key or "EMPTY", **kwargs)

    def http(self) -> httpx.Client:
        """The endpoint's own HTTP client (made once; connections are reused across probes and tokenizing)."""
        with self._lock:
            if self._http is None:
                self._http = httpx.Client(transport=self.transport, headers=self.headers())
            return self._http

    def _get(self, url: str, timeout: float) -> httpx.Response:
        return self.http().get(url, timeout=timeout)

    def _post(self, path: str, body: Mapping[str, Any], timeout: float = 60.0) -> httpx.Response:
        """POST to the server root (vLLM's /tokenize lives outside /v1)."""
        try:
            return self.http().post(f"{self.root_url}{path}", json=dict(body), timeout=timeout)
        except httpx.HTTPError as exc:
            raise unreachable(self.base_url, exc) from exc

    # --- what the server serves ----------------------------------------------------------------

    def models(self, timeout: float = 10.0) -> list[str]:
        """The model names the endpoint serves (GET /v1/models)."""
        try:
            response = self._get(f"{self.base_url}/models", timeout)
        except httpx.HTTPError as exc:
            raise unreachable(self.base_url, exc) from exc
        return served_models(response, self.base_url)

    def health(self, timeout: float = 2.0) -> bool:
        """True when the server answers its health check."""
        try:
            return self._get(f"{self.root_url}/health", timeout).status_code == 200
        except httpx.HTTPError:
            return False

    # --- the server's tokenizer ----------------------------------------------------------------

    def tokenize(self, text: str | None = None, *, messages: Sequence[Mapping[str, Any]] | None = None,
                 tools: Sequence[Mapping[str, Any]] | None = None, add_generation_prompt: bool = True,
                 chat_template_kwargs: Mapping[str, Any] | None = None) -> list[int]:
        """Token ids of `text` (no special tokens added), or of `messages` as the server's chat template
        renders them (with `tools` and the generation prompt): exactly the prompt a chat request sends."""
        if (text is None) == (messages is None):
            raise ConfigError("Pass tokenize() either text or messages, not both or neither.")
        body: dict[str, Any] = {"model": self.model_name}
        if messages is None:
            body |= {"prompt": text, "add_special_tokens": False}
        else:
            body |= {"messages": [dict(m) for m in messages], "add_generation_prompt": add_generation_prompt,
                     **({"tools": [dict(t) for t in tools]} if tools else {}),
                     **({"chat_template_kwargs": dict(chat_template_kwargs)} if chat_template_kwargs else {})}
        return self._tokenizer_call("/tokenize", body)["tokens"]

    def detokenize(self, ids: Sequence[int]) -> str:
        """The text of token ids, special tokens included, as the server's tokenizer decodes them."""
        return self._tokenizer_call("/detokenize", {"model": self.model_name, "tokens": list(ids)})["prompt"]

    def _tokenizer_call(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        response = self._post(path, body)
        if response.status_code != 200:
            raise ServerError(f"{self.root_url}{path} answered HTTP {response.status_code} ({response.text[:160]}); "
                              "token-level features (reasoning budgets, exact token counts) need a vLLM server.")
        return response.json()

    # --- what the server can do (cached on this object) ----------------------------------------

    def features(self, *, refresh: bool = False) -> ServerFeatures:
        """Whether the server splits reasoning itself and takes `thinking_token_budget`.

        One 1-token request: vLLM accepts `thinking_token_budget` only when a reasoning parser is
        configured and answers 400 naming `reasoning_config` otherwise, so the answer tells both at once.
        """
        with self._lock:
            if self._features is not None and not refresh:
                return self._features
        body = {"model": self.model_name, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1,
                "thinking_token_budget": 1}
        response = self._post("/v1/chat/completions", body)
        if response.status_code == 200:
            features = ServerFeatures(reasoning_parser=True, thinking_budget=True)
        elif response.status_code == 400 and "reasoning_config" in response.text:
            features = ServerFeatures(reasoning_parser=False, thinking_budget=False)
        else:
            raise ServerError(f"The server answered HTTP {response.status_code} to a 1-token probe: "
                              f"{response.text[:200]}")
        with self._lock:
            self._features = features
        return features

    def note_no_tool_parser(self) -> None:
        """Remember that the server refused `tool_choice="auto"` (no --enable-auto-tool-choice)."""
        features = replace(self.features(), tool_parser=False)
        with self._lock:
            self._features = features

    def reasoning_end_ids(self) -> tuple[tuple[int, ...], ...]:
        """Token ids of `</think>` and `<tool_call>` (either ends the reasoning), fetched once."""
        with self._lock:
            if self._end_ids is not None:
                return self._end_ids
        ids = tuple(tuple(self.tokenize(marker)) for marker in (THINK_END, TOOL_START))
        with self._lock:
            self._end_ids = ids
        return ids

    def forget(self) -> None:
        """Drop what the probes learnt (the next call asks the server again)."""
        with self._lock:
            self._features, self._end_ids = None, None

    @property
    def endpoint(self) -> Endpoint:
        """The endpoint itself, so code that accepts "anything with `.endpoint`" accepts an Endpoint too."""
        return self

    def __repr__(self) -> str:
        key = "set" if self.api_key else "none"
        return f"<Endpoint {self.base_url} model={self._model_name!r} api_key={key}>"


class HasEndpoint(Protocol):
    """Anything that talks through an endpoint (a `VLLMServer`, an `Endpoint` itself)."""

    @property
    def endpoint(self) -> Endpoint: ...


def endpoint_of(target: HasEndpoint) -> Endpoint:
    """The `Endpoint` of a server or endpoint; a sentence saying what to pass for anything else."""
    endpoint = target.endpoint
    if not isinstance(endpoint, Endpoint):
        raise ConfigError(f"{type(target).__name__}.endpoint is not a nanokit Endpoint; pass a VLLMServer "
                          "or the endpoint attach(...) returns.")
    return endpoint


def attach(base_url: str, api_key: str | None = None, model: str | None = None, *, timeout: float = 10.0,
           transport: httpx.BaseTransport | None = None) -> Endpoint:
    """Attach to a running OpenAI-compatible server; checks it answers and serves `model` (default: its first).

    The key defaults to $NANOKIT_API_KEY, then $OPENAI_API_KEY.
    """
    if api_key is None:
        api_key = os.environ.get("NANOKIT_API_KEY") or os.environ.get("OPENAI_API_KEY")
    probe = Endpoint(base_url, api_key=api_key, transport=transport)
    return probe.with_model(pick_model(probe.models(timeout=timeout), model, probe.base_url))
