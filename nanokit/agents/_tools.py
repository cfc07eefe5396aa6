"""Tools for the agents, run exactly as nanokit's own tool loop runs them.

The schema each tool advertises is the one nanokit's loop shows: `nanokit.toolkit.tool_schema(fn)` for a
typed function (the embedded model was trained on those schemas, and the real model's chat template
renders them the same way), LangChain's own `convert_to_openai_tool` schema for a LangChain tool. A call
goes through `nanokit.toolkit.execute_tool_call`, so arguments are coerced against that schema ("80" -> 80,
and for optional fields whatever `nanokit.schema` reads) and failures are worded as in the tool-calling
walkthrough; a failure raises, and the ToolNode turns it into an error ToolMessage.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool
from langgraph.prebuilt import ToolNode

from nanokit.errors import ToolError
from nanokit.parsing import ToolCall
from nanokit.toolkit import ToolLike, as_tool, execute_tool_call


def as_langchain_tool(fn: ToolLike | BaseTool) -> BaseTool:
    """A StructuredTool that advertises `fn`'s schema unchanged and runs it through nanokit's coercion.

    A LangChain tool is wrapped too, so its calls are coerced as the tool loop coerces them; it keeps its
    name, description and schema.
    """
    tool = as_tool(fn)

    def run(**arguments: Any) -> str:
        execution = execute_tool_call(ToolCall(tool.name, arguments), {tool.name: tool})
        if not execution.ok:
            raise ToolError(execution.error)
        return execution.output

    function = tool.schema["function"]
    return StructuredTool.from_function(
        func=run, name=tool.name, description=function.get("description", ""), args_schema=tool.parameters
    )


def tool_error_message(error: Exception) -> str:
    """What a failed call puts in its ToolMessage: "Error: ..." as nanokit's tool loop words it."""
    if isinstance(error, ToolError):
        return f"Error: {error}"
    return f"Error: {type(error).__name__}: {error}"


def tool_node(tools: Iterable[ToolLike | BaseTool]) -> ToolNode:
    """A ToolNode that turns every tool exception into an error ToolMessage instead of raising."""
    return ToolNode([as_langchain_tool(t) for t in tools], handle_tool_errors=tool_error_message)


def failing_tool(fn: Callable[..., Any], message: str) -> Callable[..., Any]:
    """A stand-in for `fn` with the same name, schema and docstring that always raises ToolError(message).

    The model cannot tell it from the real tool, so it calls it as usual: a way to see (and test) what an
    agent does with a tool that fails.
    """

    @functools.wraps(fn)
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ToolError(message)

    return broken
