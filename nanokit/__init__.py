"""nanokit: learn, launch and measure NVIDIA Nemotron-3-Nano-30B-A3B from Jupyter.

The public names below are what notebooks and widgets import; everything else is implementation.
"""

from nanokit.errors import (
    ConfigError,
    ModelNotFoundError,
    NanokitError,
    PortInUseError,
    ServerError,
    ToolError,
)
from nanokit.server import Endpoint, ServerState, VLLMServer, attach
from nanokit.tools import EXAMPLE_TOOLS, calculate_tip, calculator, get_weather, tool_schema

__version__ = "0.1.0"

__all__ = [
    "EXAMPLE_TOOLS",
    "ConfigError",
    "Endpoint",
    "ModelNotFoundError",
    "NanokitError",
    "PortInUseError",
    "ServerError",
    "ServerState",
    "ToolError",
    "VLLMServer",
    "attach",
    "calculate_tip",
    "calculator",
    "get_weather",
    "tool_schema",
]
