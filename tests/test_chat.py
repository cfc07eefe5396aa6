"""chat()/stream_chat() logic against canned server streams (the real-server tier is test_chat_integration)."""

from __future__ import annotations

import json

import httpx
import pytest

from nanokit.chat import PRESETS, ChatResult, Done, chat, stream_chat
from nanokit.endpoint import Endpoint, ServerFeatures
from nanokit.errors import ConfigError
from nanokit.example_tools import EXAMPLE_TOOLS
from nanokit.parsing import ContentDelta, ReasoningDelta, ToolCall, ToolCallDelta

PARSED = ServerFeatures(reasoning_parser=True, thinking_budget=True, tool_parser=True)
BARE = ServerFeatures(reasoning_parser=False, thinking_budget=False, tool_parser=False)


class CannedEndpoint(Endpoint):
    """An endpoint whose server (a MockTransport) streams the given deltas and records the requests it got."""

    def __init__(self, deltas: list[dict], usage: dict | None = None, *, then: list[list[dict]] = (),
                 features: ServerFeatures | None = None) -> None:
        super().__init__("http://canned.test/v1", model_name="canned", transport=httpx.MockTransport(self._handle),
                         features=features)
        self.scripts, self.usage, self.requests = [deltas, *then], usage or {}, []

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(json.loads(request.content))
        deltas = self.scripts[min(len(self.requests), len(self.scripts)) - 1]
        lines = []
        for i, delta in enumerate(deltas):
            finish = "stop" if i == len(deltas) - 1 else None
            chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "canned",
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            lines.append(f"data: {json.dumps(chunk)}\n\n")
        usage = {"prompt_tokens": 5, "completion_tokens": len(deltas), "total_tokens": 5 + len(deltas),
                 **self.usage}
        lines.append(f"data: {json.dumps({'id': 'x', 'object': 'chat.completion.chunk', 'created': 0, 'model': 'canned', 'choices': [], 'usage': usage})}\n\n")
        lines.append("data: [DONE]\n\n")
        return httpx.Response(200, text="".join(lines), headers={"content-type": "text/event-stream"})


def test_thinking_off_answer_streamed_as_reasoning_content_is_corrected():
    endpoint = CannedEndpoint([{"role": "assistant"}, {"reasoning_content": "The answer"},
                               {"reasoning_content": " is 4."}])
    events = list(stream_chat(endpoint, "2+2?", thinking=False, features=PARSED))
    assert [type(e) for e in events] == [ContentDelta, ContentDelta, Done]
    result = events[-1].result
    assert (result.reasoning, result.content) == ("", "The answer is 4.")
    assert endpoint.requests[0]["chat_template_kwargs"] == {"enable_thinking": False}


def test_server_split_and_client_split_agree():
    raw = ["Think", "ing.\n</th", "ink>\n\nThe ans", "wer."]
    bare = chat(CannedEndpoint([{"content": piece} for piece in raw]), "q", features=BARE)
    parsed = chat(CannedEndpoint([{"reasoning": "Thinking."}, {"content": "\n\nThe answer."}]), "q",
                  features=PARSED)
    assert (bare.reasoning, bare.content) == (parsed.reasoning, parsed.content) == ("Thinking.", "The answer.")


def test_server_tool_call_deltas_are_collected_and_coerced():
    deltas = [
        {"reasoning": "Need a tip."},
        {"tool_calls": [{"index": 0, "id": "call_a", "type": "function",
                         "function": {"name": "calculate_tip", "arguments": '{"bill_total": "50", '}}]},
        {"tool_calls": [{"index": 0, "function": {"arguments": '"tip_percentage": "15"}'}}]},
    ]
    events = list(stream_chat(CannedEndpoint(deltas), "tip?", tools=EXAMPLE_TOOLS, features=PARSED))
    assert sum(isinstance(e, ToolCallDelta) for e in events) == 2
    result = events[-1].result
    assert result.tool_calls == (ToolCall("calculate_tip", {"bill_total": 50, "tip_percentage": 15}),)
    assert result.tool_calls[0].id == "call_a"


def test_client_parses_tool_calls_when_the_server_does_not():
    text = "ok\n</think>\n\n<tool_call>\n<function=get_weather>\n<parameter=city>\nOslo\n</parameter>\n</function>\n</tool_call>"
    endpoint = CannedEndpoint([{"content": text[i:i + 7]} for i in range(0, len(text), 7)])
    result = chat(endpoint, "weather?", tools=EXAMPLE_TOOLS, features=BARE)
    assert result.tool_calls == (ToolCall("get_weather", {"city": "Oslo"}),)
    assert endpoint.requests[0]["tool_choice"] == "none"  # a bare vLLM refuses "auto"


def test_no_tools_offered_means_no_tool_calls_reported():
    # vLLM's tool parser strips call markup and reports nothing when the request had no tools.
    text = "<tool_call>\n<function=get_weather>\n<parameter=city>\nOslo\n</parameter>\n</function>\n</tool_call>"
    events = list(stream_chat(CannedEndpoint([{"content": text}]), "q", thinking=False, features=BARE))
    assert [type(e) for e in events] == [Done]
    assert (events[-1].result.content, events[-1].result.tool_calls) == ("", ())


def test_presets_and_server_budget_reach_the_request():
    endpoint = CannedEndpoint([{"reasoning": "short"}, {"content": "done"}],
                              usage={"completion_tokens_details": {"reasoning_tokens": 1}})
    result = chat(endpoint, "q", preset="tools", reasoning_budget=8, max_tokens=64, features=PARSED)
    sent = endpoint.requests[0]
    assert (sent["temperature"], sent["top_p"]) == (PRESETS["tools"].temperature, PRESETS["tools"].top_p)
    assert sent["thinking_token_budget"] == 8 and sent["max_tokens"] == 64
    assert result.usage.reasoning_tokens == 1 and result.usage.requests == 1
    assert isinstance(result, ChatResult) and result.timings.first_reasoning_s <= result.timings.first_answer_s


def test_reasoning_delta_events_and_timings():
    events = list(stream_chat(CannedEndpoint([{"reasoning": "a"}, {"content": "b"}]), "q", features=PARSED))
    assert [type(e) for e in events] == [ReasoningDelta, ContentDelta, Done]


@pytest.mark.parametrize("budget", [0, 64])
def test_budget_must_leave_room_for_the_answer(budget):
    with pytest.raises(ConfigError):
        chat(CannedEndpoint([]), "q", reasoning_budget=budget, max_tokens=64, features=PARSED)


def test_server_budget_on_a_server_without_one_is_a_config_error():
    with pytest.raises(ConfigError, match="two_call"):
        chat(CannedEndpoint([]), "q", reasoning_budget=8, budget_mode="server", features=BARE)


def test_assistant_message_carries_reasoning_and_tool_calls_for_the_next_turn():
    call = ToolCall("calculator", {"expression": "1+1"}, id="call_1")
    result = ChatResult("Add them.", "", (call,), usage=None, timings=None)
    assert result.assistant_message() == {"role": "assistant", "content": "", "reasoning": "Add them.",
                                          "tool_calls": [call.to_message_entry()]}
    assert "reasoning" not in result.assistant_message(carry_reasoning=False)
    assert "reasoning" not in ChatResult("", "4", (), usage=None, timings=None).assistant_message()


class BudgetServer(Endpoint):
    """A vLLM-like server for the two-call budget: the chat call never closes its reasoning."""

    CLOSER_IDS = (90, 13, 91)

    def __init__(self) -> None:
        super().__init__("http://budget.test/v1", model_name="canned", transport=httpx.MockTransport(self._handle))
        self.requests: list[tuple[str, dict]] = []

    def _handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.requests.append((request.url.path, body))
        if request.url.path == "/tokenize":
            ids = {"</think>": [13], "<tool_call>": [14]}.get(body["prompt"], list(self.CLOSER_IDS))
            return httpx.Response(200, json={"tokens": ids, "count": len(ids), "max_model_len": 99})
        if request.url.path == "/v1/completions":
            chunks = [{"choices": [{"index": 0, "text": "The answer.", "finish_reason": "stop"}]},
                      {"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}}]
        else:
            n = body["max_tokens"]
            chunks = [{"prompt_token_ids": [1, 2, 3], "choices": [
                {"index": 0, "delta": {"reasoning": f"r{i} "}, "token_ids": [100 + i],
                 "finish_reason": "length" if i == n - 1 else None}]} for i in range(n)]
            chunks.append({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": n,
                                                    "total_tokens": 3 + n}})
        base = {"id": "x", "created": 0, "model": "canned",
                "object": "text_completion" if "completions" in request.url.path and "chat" not in request.url.path
                else "chat.completion.chunk"}
        text = "".join(f"data: {json.dumps({**base, **c})}\n\n" for c in chunks) + "data: [DONE]\n\n"
        return httpx.Response(200, text=text, headers={"content-type": "text/event-stream"})


def test_two_call_budget_closes_the_reasoning_and_continues_the_same_turn():
    server = BudgetServer()
    events = list(stream_chat(server, "q", reasoning_budget=4, budget_mode="two_call", max_tokens=32,
                              features=BARE))
    result = events[-1].result
    assert result.budget_closed and result.reasoning == "r0 r1 r2 r3" and result.content == "The answer."
    assert result.usage.reasoning_tokens == 4 and result.usage.requests == 2
    assert result.usage.completion_tokens == 7
    (_, first), *_, (path, second) = server.requests
    assert first["max_tokens"] == 4 and first["return_token_ids"] is True
    assert path == "/v1/completions"
    # the server's own rendering of the prompt, the generated ids, then ".\n</think>\n\n"
    assert second["prompt"] == [1, 2, 3, 100, 101, 102, 103, *BudgetServer.CLOSER_IDS]
    assert second["max_tokens"] == 32 - 4 - 3 and second["min_tokens"] == 1
