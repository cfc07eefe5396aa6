"""nanokit's typed Python tools as LangChain tools, with errors the agent can read.

The schema each tool advertises is exactly `nanokit.tools.tool_schema(fn)`: the embedded model was
trained on those schemas, and the real model's chat template renders them the same way. Arguments are
validated (and coerced, "80" -> 80) against the function's type hints before it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool
from langgraph.prebuilt import ToolNode
from pydantic import ValidationError, validate_call

from nanokit.tools import tool_schema


def as_langchain_tool(fn: Callable[..., Any] | BaseTool) -> BaseTool:
    """A StructuredTool that runs `fn` and advertises `tool_schema(fn)` unchanged; tools pass through."""
    if isinstance(fn, BaseTool):
        return fn
    function = tool_schema(fn)["function"]
    return StructuredTool.from_function(
        func=validate_call(fn),
        name=function["name"],
        description=function["description"],
        args_schema=function["parameters"],
    )


def tool_error_message(error: Exception) -> str:
    """The sentence a failed tool call puts into its ToolMessage, so the model (and the reader) see why."""
    error = getattr(error, "source", None) or error  # ToolNode wraps argument errors in ToolInvocationError
    if isinstance(error, ValidationError):
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}" for e in error.errors())
        return f"Error: the tool was called with invalid arguments ({problems}). Fix the arguments and try again."
    return f"Error: the tool failed with {type(error).__name__}: {error}. Fix the arguments or answer without it."


def tool_node(tools: Iterable[Callable[..., Any] | BaseTool]) -> ToolNode:
    """A ToolNode that turns every tool exception into an error ToolMessage instead of raising."""
    return ToolNode([as_langchain_tool(t) for t in tools], handle_tool_errors=tool_error_message)
