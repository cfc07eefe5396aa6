"""A multi-agent coordinator: a supervisor routes a request to specialist agents and composes their answers.

Routing rides on the model's tool-calling skill instead of asking it to name an agent: the supervisor
sees every specialist's tools (with their real schemas) and calls one; the coordinator hands the request
to the specialist that owns that tool, which runs its own ReAct loop and tool. The specialist's findings
(what its tools returned, or its answer if it used none) return to the supervisor as the result of its
call, and the supervisor's next turn composes the answer, just as after an ordinary tool call. A tiny
model trained only to call tools and answer from their results can do all of it; handing it the
specialist's prose instead made the embedded model garble the numbers (seen 2026-11-22).

    START -> supervisor --(tool calls)--> calculator | weather --> supervisor --(no calls)--> END
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import BaseTool
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Send
from typing_extensions import TypedDict

from nanokit.agents._react import build_tool_agent
from nanokit.agents._tools import as_langchain_tool
from nanokit.errors import ConfigError
from nanokit.example_tools import calculate_tip, calculator, get_weather
from nanokit.toolkit import ToolLike

SUPERVISOR = "supervisor"


@dataclass(frozen=True)
class Specialist:
    """A specialist agent: its node name, its tools, and optionally its own model (e.g. with reasoning on)."""

    name: str
    tools: Sequence[ToolLike | BaseTool]
    model: BaseChatModel | None = None
    prompt: str | None = None


DEFAULT_SPECIALISTS: tuple[Specialist, ...] = (
    Specialist("calculator", (calculate_tip, calculator)),
    Specialist("weather", (get_weather,)),
)


class CoordinatorState(MessagesState):
    """The conversation, plus which specialists were asked, in order."""

    routes: Annotated[list[str], operator.add]


class _Assignment(TypedDict):
    call: dict[str, Any]
    request: str


def build_coordinator(
    model: BaseChatModel,
    specialists: Sequence[Specialist] = DEFAULT_SPECIALISTS,
    *,
    supervisor_model: BaseChatModel | None = None,
    supervisor_prompt: str | None = None,
    checkpointer: BaseCheckpointSaver | None = None,
) -> CompiledStateGraph:
    """A compiled supervisor graph with one node per specialist.

    `model` serves every node that has no model of its own; `supervisor_model` overrides it for the
    supervisor. Each specialist gets the user's request and only its own tools; its findings come
    back to the supervisor as the result of the call that chose it.
    """
    owners = _tool_owners(specialists)
    supervisor = (supervisor_model or model).bind_tools([as_langchain_tool(t) for s in specialists for t in s.tools])

    def supervise(state: CoordinatorState) -> dict[str, Any]:
        prompt = [SystemMessage(supervisor_prompt)] if supervisor_prompt else []
        reply = supervisor.invoke(prompt + state["messages"])
        unknown = [
            ToolMessage(f"Error: there is no specialist for the tool {c['name']!r}; use one of {sorted(owners)}.",
                        tool_call_id=c["id"], name=c["name"], status="error")
            for c in getattr(reply, "tool_calls", []) if c["name"] not in owners
        ]
        return {"messages": [reply, *unknown]}

    def route(state: CoordinatorState) -> list[Send] | str:
        reply = next(m for m in reversed(state["messages"]) if isinstance(m, AIMessage))
        calls = [c for c in reply.tool_calls if c["name"] in owners]
        if not calls:
            return SUPERVISOR if reply.tool_calls else END
        request = _last_request(state["messages"])
        return [Send(owners[c["name"]], _Assignment(call=dict(c), request=request)) for c in calls]

    graph = StateGraph(CoordinatorState)
    graph.add_node(SUPERVISOR, supervise)
    for specialist in specialists:
        graph.add_node(specialist.name, _specialist_node(specialist, model))
        graph.add_edge(specialist.name, SUPERVISOR)
    graph.add_edge(START, SUPERVISOR)
    graph.add_conditional_edges(SUPERVISOR, route, [SUPERVISOR, *(s.name for s in specialists), END])
    return graph.compile(checkpointer=checkpointer)


def _specialist_node(specialist: Specialist, model: BaseChatModel) -> Callable[[_Assignment], dict[str, Any]]:
    # Stateless (checkpointer=False): the conversation lives in the supervisor's thread; a specialist
    # answers one request and must not inherit the parent's checkpointer and pile up old turns.
    agent = build_tool_agent(specialist.model or model, specialist.tools, prompt=specialist.prompt,
                             name=specialist.name, checkpointer=False)

    def run(assignment: _Assignment) -> dict[str, Any]:
        messages = agent.invoke({"messages": [HumanMessage(assignment["request"])]})["messages"]
        results = [m for m in messages if isinstance(m, ToolMessage)]
        answer = next((m.text for m in reversed(messages) if isinstance(m, AIMessage) and m.text), "")
        findings = "\n".join(m.text for m in results) or answer
        failed = not findings or (bool(results) and all(m.status == "error" for m in results))
        call = assignment["call"]
        return {
            "messages": [ToolMessage(
                findings or f"Error: the {specialist.name} agent gave no answer.",
                tool_call_id=call["id"], name=call["name"], status="error" if failed else "success",
            )],
            "routes": [specialist.name],
        }

    return run


def _tool_owners(specialists: Sequence[Specialist]) -> Mapping[str, str]:
    owners: dict[str, str] = {}
    for specialist in specialists:
        if specialist.name in (SUPERVISOR, START, END):
            raise ConfigError(f"A specialist cannot be named {specialist.name!r}; pick another name.")
        for tool in specialist.tools:
            name = as_langchain_tool(tool).name
            if name in owners:
                raise ConfigError(
                    f"The tool {name!r} belongs to both {owners[name]!r} and {specialist.name!r}; "
                    "give each tool to one specialist so the supervisor's call decides the route."
                )
            owners[name] = specialist.name
    return owners


def _last_request(messages: Sequence[Any]) -> str:
    return next((m.text for m in reversed(messages) if isinstance(m, HumanMessage)), "")
