"""A tool-using ReAct agent: LangGraph's prebuilt model <-> tools loop around nanokit's typed tools."""

from __future__ import annotations

import warnings
from collections.abc import Iterable

from langchain_core.language_models import BaseChatModel
from langchain_core.tools import BaseTool
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph

from nanokit.agents._tools import tool_node
from nanokit.example_tools import EXAMPLE_TOOLS
from nanokit.toolkit import ToolLike

try:  # langgraph >= 1.0 marks create_react_agent deprecated in favour of langchain.agents (another package)
    from langgraph.warnings import LangGraphDeprecatedSinceV10 as _Deprecated
except ImportError:  # pragma: no cover - older langgraph
    _Deprecated = DeprecationWarning


def build_tool_agent(
    model: BaseChatModel,
    tools: Iterable[ToolLike | BaseTool] = EXAMPLE_TOOLS,
    *,
    prompt: str | None = None,
    checkpointer: BaseCheckpointSaver | bool | None = None,
    name: str | None = None,
) -> CompiledStateGraph:
    """A compiled ReAct graph (nodes `agent` and `tools`) that calls `tools` until the model answers.

    Tool exceptions and calls to unknown tools come back to the model as error ToolMessages. Pass a
    checkpointer (see `memory`) to keep the conversation per `thread_id` across runs; False keeps a
    sub-agent stateless even inside a graph that has one.
    """
    from langgraph.prebuilt import create_react_agent

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", _Deprecated)
        return create_react_agent(
            model, tool_node(tools), prompt=prompt, checkpointer=checkpointer, name=name
        )
