"""nanokit: learn, launch and measure NVIDIA Nemotron-3-Nano-30B-A3B from Jupyter.

The names below are the public API that notebooks and widgets import. Three sub-packages keep their own
public names (each with an `__all__`): `nanokit.tiny` (the embedded model), `nanokit.bench` (load
generation and metrics) and `nanokit.agents` (LangGraph agents; imported on demand, it pulls in LangGraph).
"""

from nanokit.catalog import GPUS, VARIANTS, custom_gpu, get_gpu, get_variant, local_gpus
from nanokit.chat import ChatResult, Done, SamplingPreset, chat, stream_chat
from nanokit.doctor import Finding, diagnose, launch_problem
from nanokit.errors import (
    ConfigError,
    ModelNotFoundError,
    NanokitError,
    PortInUseError,
    ServerError,
    StartCancelled,
    ToolError,
)
from nanokit.launch import LaunchSpec, render_shell
from nanokit.parsing import ContentDelta, ReasoningDelta, ToolCall, ToolCallDelta, parse_completion
from nanokit.planner import MemoryPlan, ModelShape, plan_launch, plan_memory
from nanokit.process import free_port
from nanokit.server import Endpoint, ServerState, VLLMServer, attach
from nanokit.tools import (
    EXAMPLE_TOOLS,
    Tool,
    calculate_tip,
    calculator,
    get_weather,
    run_tool_loop,
    tool_schema,
)
from nanokit.weights import ensure_local

__version__ = "0.1.0"

__all__ = [
    "EXAMPLE_TOOLS",
    "GPUS",
    "VARIANTS",
    "ChatResult",
    "ConfigError",
    "ContentDelta",
    "Done",
    "Endpoint",
    "Finding",
    "LaunchSpec",
    "MemoryPlan",
    "ModelNotFoundError",
    "ModelShape",
    "NanokitError",
    "PortInUseError",
    "ReasoningDelta",
    "SamplingPreset",
    "ServerError",
    "ServerState",
    "StartCancelled",
    "Tool",
    "ToolCall",
    "ToolCallDelta",
    "ToolError",
    "VLLMServer",
    "attach",
    "calculate_tip",
    "calculator",
    "chat",
    "custom_gpu",
    "diagnose",
    "ensure_local",
    "free_port",
    "get_gpu",
    "get_variant",
    "get_weather",
    "launch_problem",
    "local_gpus",
    "parse_completion",
    "plan_launch",
    "plan_memory",
    "render_shell",
    "run_tool_loop",
    "stream_chat",
    "tool_schema",
]
