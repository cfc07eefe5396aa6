"""The chat model an agent node talks to: langchain-openai's ChatOpenAI pointed at a served model.

It takes an `Endpoint` (what `attach(...)` returns) or a started `VLLMServer`. Reasoning is a per-node
choice: each node gets its own model object, and `reasoning` becomes vLLM's
`chat_template_kwargs={"enable_thinking": ...}`.

Reasoning is carried through the tool loop: the released chat template keeps the reasoning of the
assistant turns after the last user message (the current tool-calling trajectory) and truncates earlier
ones itself, and vLLM hands an assistant message's `reasoning` field to the template. langchain-openai
sends no such field (its message conversion keeps content, tool calls and name only), so
`ServedChatModel` adds it from the `reasoning_content` it stored when the reply came in.
"""

from __future__ import annotations

from typing import Any

import httpx
import openai
from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatResult
from langchain_openai import ChatOpenAI

from nanokit.endpoint import Endpoint, HasEndpoint, endpoint_of


class ServedChatModel(ChatOpenAI):
    """ChatOpenAI that keeps the reasoning vLLM's reasoning parser splits off (ChatOpenAI drops it).

    vLLM returns it as `reasoning` (`reasoning_content` in older releases); it lands in the message's
    `additional_kwargs["reasoning_content"]`, where the step stream and the trace widget show it, and
    (with `carry_reasoning`) goes back to the server as the assistant message's `reasoning` field.
    """

    carry_reasoning: bool = True

    def _get_request_payload(self, input_: LanguageModelInput, *, stop: list[str] | None = None,
                             **kwargs: Any) -> dict:
        payload = super()._get_request_payload(input_, stop=stop, **kwargs)
        if not self.carry_reasoning or "messages" not in payload:
            return payload
        # langchain-openai turns each message into one request message, in order
        for sent, message in zip(payload["messages"], self._convert_input(input_).to_messages(), strict=True):
            reasoning = message.additional_kwargs.get("reasoning_content") if isinstance(message, AIMessage) else None
            if reasoning:
                sent["reasoning"] = reasoning
        return payload

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
    target: Endpoint | HasEndpoint,
    *,
    reasoning: bool = False,
    carry_reasoning: bool = True,
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
    error in the transcript within a minute, not a notebook cell that hangs. `carry_reasoning=False`
    stops sending earlier reasoning back to the server.
    """
    endpoint = endpoint_of(target)
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
        carry_reasoning=carry_reasoning,
        # the endpoint's transport seam (a MockTransport in unit tests) carries the agent's requests too
        **({"http_client": httpx.Client(transport=endpoint.transport)} if endpoint.transport else {}),
        **kwargs,
    )
