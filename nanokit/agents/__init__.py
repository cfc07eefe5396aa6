"""LangGraph agents on a served model: a tool-using ReAct agent, memory across turns, a coordinator.

Every graph talks to the server through langchain-openai's ChatOpenAI (`chat_model`), uses the same
typed tools as the tool-calling walkthrough (`nanokit.tools`), and runs through `stream_agent` /
`run_agent`, which report each step and turn failures into sentences.

    model = chat_model(server)                          # reasoning off; chat_model(server, reasoning=True)
    agent = build_tool_agent(model, checkpointer=memory())
    run_agent(agent, "What is the weather in Paris?", thread_id="demo").answer
"""

from nanokit.agents._coordinator import DEFAULT_SPECIALISTS, Specialist, build_coordinator
from nanokit.agents._drawing import GraphLayout, graph_figure, graph_layout, mermaid
from nanokit.agents._memory import memory
from nanokit.agents._model import ServedChatModel, chat_model
from nanokit.agents._react import build_tool_agent
from nanokit.agents._steps import (
    DEFAULT_STEP_LIMIT,
    AgentRun,
    AgentStep,
    message_steps,
    run_agent,
    stream_agent,
)
from nanokit.agents._tools import as_langchain_tool, failing_tool, tool_error_message, tool_node

__all__ = [
    "DEFAULT_SPECIALISTS",
    "DEFAULT_STEP_LIMIT",
    "AgentRun",
    "AgentStep",
    "GraphLayout",
    "ServedChatModel",
    "Specialist",
    "as_langchain_tool",
    "build_coordinator",
    "build_tool_agent",
    "chat_model",
    "failing_tool",
    "graph_figure",
    "graph_layout",
    "memory",
    "mermaid",
    "message_steps",
    "run_agent",
    "stream_agent",
    "tool_error_message",
    "tool_node",
]
