"""The chat model an agent node talks to: langchain-openai's ChatOpenAI pointed at a served model.

Any object with `base_url`, `model_name` and `api_key` will do: a started `VLLMServer` or the endpoint
`attach(...)` returns. Reasoning is a per-node choice: each node gets its own model object, and
`reasoning` becomes vLLM's `chat_template_kwargs={"enable_thinking": ...}`.
"""

from __future__ import annotations

from typing import Any, Protocol

import openai
from langchain_core.outputs import ChatResult
from langchain_openai import ChatOpenAI


class ServedModel(Protocol):
    """What an agent needs to know about a server: where it is, what it serves, the key it wants."""

    base_url: str
    model_name: str
    api_key: str | None


class ServedChatModel(ChatOpenAI):
    """ChatOpenAI that keeps the reasoning vLLM's reasoning parser splits off (ChatOpenAI drops it).

    vLLM returns it as `reasoning` (`reasoning_content` in older releases); it lands in the message's
    `additional_kwargs["reasoning_content"]`, where the step stream and the trace widget show it.
    """

    def _create_chat_result(self, response: dict | openai.BaseModel, generation_info: dict | None = None) -> ChatResult:
        result = super()._create_chat_result(response, generation_info)
        choices = response.get("choices") if isinstance(response, dict) else getattr(response, "choices", None)
        for generation, choice in zip(result.generations, choices or [], strict=False):
            message = choice.get("message") if isinstance(choice, dict) else getattr(choice, "message", None)
            reasoning = next((_field(message, k) for k in ("reasoning", "reasoning_content") if _field(message, k)), None)
            if reasoning:
                generation.message.additional_kwargs["reasoning_content"] = reasoning
        return result


def _field(message: object, name: str) -> object:
    return message.get(name) if isinstance(message, dict) else getattr(message, name, None)


def chat_model(
    endpoint: ServedModel,
    *,
    reasoning: bool = False,
    temperature: float = 0.6,
    top_p: float = 0.95,
    max_tokens: int = 512,
    timeout: float = 60.0,
    max_retries: int = 1,
    **kwargs: Any,
) -> ServedChatModel:
    """A ChatOpenAI for `endpoint`, with thinking on or off and small timeouts so a dead server fails fast.

    The sampling defaults are the model card's advice for tool calling (temperature 0.6, top_p 0.95).
    `timeout` and `max_retries` are kept small on purpose: a server that is gone should turn into an
    error in the transcript within a minute, not a notebook cell that hangs.
    """
    return ServedChatModel(
        base_url=endpoint.base_url,
        api_key=endpoint.api_key or "EMPTY",  # vLLM without --api-key accepts any key; the client needs one
        model=endpoint.model_name,
        temperature=temperature,
        top_p=top_p,
        max_tokens=max_tokens,
        timeout=timeout,
        max_retries=max_retries,
        extra_body={"chat_template_kwargs": {"enable_thinking": reasoning}},
        **kwargs,
    )
