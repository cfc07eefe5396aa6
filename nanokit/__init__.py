"""nanokit: learn, launch and measure NVIDIA Nemotron-3-Nano-30B-A3B from Jupyter.

The names below are the public API that notebooks and widgets import. Three sub-packages keep their own
public names (each with an `__all__`): `nanokit.tiny` (the embedded model), `nanokit.bench` (load
generation and metrics) and `nanokit.agents` (LangGraph agents; imported on demand, it pulls in LangGraph).
"""

from nanokit.catalog import GPUS, VARIANTS, custom_gpu, get_gpu, get_variant, local_gpus
from nanokit.chat import PRESETS, ChatResult, Done, SamplingPreset, chat, probe_server, stream_chat
from nanokit.declared_tools import DeclarationStore, ToolDeclaration, declared_tool, parse_declaration
from nanokit.doctor import Finding, diagnose, launch_problem
from nanokit.endpoint import Endpoint, HasEndpoint, ServerFeatures, api_root, attach
from nanokit.errors import (
    ConfigError,
    ModelNotFoundError,
    NanokitError,
    PortInUseError,
    ServerError,
    StartCancelled,
    ToolError,
)
from nanokit.example_tools import EXAMPLE_TOOLS, calculate_tip, calculator, get_weather
from nanokit.launch import LaunchSpec, render_shell
from nanokit.nodes import NodeCommand, node_commands
from nanokit.parallel import strategy_name
from nanokit.parsing import (
    CompletionParser,
    ContentDelta,
    ReasoningDelta,
    ToolCall,
    ToolCallDelta,
    coerce_arguments,
    parse_completion,
)
from nanokit.planner import MemoryPlan, ModelShape, plan_launch, plan_memory
from nanokit.process import free_port
from nanokit.server import ServerState, VLLMServer
from nanokit.startup_timeline import StartupPhase, StartupTimeline, parse_startup_timeline
from nanokit.toolkit import Tool, ToolExecution, as_tool, execute_tool_call, execute_tool_calls, tool_schema
from nanokit.tools import ToolLoopResult, ToolStep, iter_tool_loop, run_tool_loop
from nanokit.weights import ensure_local

__version__ = "0.1.0"

__all__ = [
    "EXAMPLE_TOOLS",
    "GPUS",
    "PRESETS",
    "VARIANTS",
    "ChatResult",
    "CompletionParser",
    "ConfigError",
    "ContentDelta",
    "DeclarationStore",
    "Done",
    "Endpoint",
    "Finding",
    "HasEndpoint",
    "LaunchSpec",
    "MemoryPlan",
    "ModelNotFoundError",
    "ModelShape",
    "NanokitError",
    "NodeCommand",
    "PortInUseError",
    "ReasoningDelta",
    "SamplingPreset",
    "ServerError",
    "ServerFeatures",
    "ServerState",
    "StartCancelled",
    "StartupPhase",
    "StartupTimeline",
    "Tool",
    "ToolCall",
    "ToolCallDelta",
    "ToolDeclaration",
    "ToolError",
    "ToolExecution",
    "ToolLoopResult",
    "ToolStep",
    "VLLMServer",
    "api_root",
    "as_tool",
    "attach",
    "calculate_tip",
    "calculator",
    "chat",
    "coerce_arguments",
    "custom_gpu",
    "declared_tool",
    "diagnose",
    "ensure_local",
    "execute_tool_call",
    "execute_tool_calls",
    "free_port",
    "get_gpu",
    "get_variant",
    "get_weather",
    "iter_tool_loop",
    "launch_problem",
    "local_gpus",
    "node_commands",
    "parse_completion",
    "parse_declaration",
    "parse_startup_timeline",
    "plan_launch",
    "plan_memory",
    "probe_server",
    "render_shell",
    "run_tool_loop",
    "strategy_name",
    "stream_chat",
    "tool_schema",
]
