"""The cookbook's example tools: the three functions the embedded model is trained to call.

They are plain typed functions with docstrings, so `nanokit.toolkit.tool_schema` turns each into the
schema the model sees. This module imports nothing from nanokit: the training-data generator in
`nanokit.tiny` uses it without pulling in a chat client.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import Any, Literal

_WEATHER = {  # a fixed, synthetic world: the embedded model is trained on the same table
    "paris": 18, "london": 14, "tokyo": 22, "new york": 16, "berlin": 12, "madrid": 25, "rome": 21,
    "sydney": 24, "cairo": 31, "oslo": 6, "lima": 19, "toronto": 9, "mumbai": 30, "seoul": 15,
}


def calculate_tip(bill_total: int, tip_percentage: int) -> float:
    """Calculate the tip amount for a restaurant bill.

    Args:
        bill_total: The total bill amount in dollars.
        tip_percentage: The tip percentage, e.g. 15 for 15%.
    """
    return round(bill_total * tip_percentage / 100, 2)


def get_weather(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> str:
    """Get the current temperature in a city.

    Args:
        city: The city name, e.g. Paris.
        unit: The temperature unit.
    """
    celsius = _WEATHER.get(city.strip().lower())
    if celsius is None:
        celsius = sum(map(ord, city.strip().lower())) % 30  # any city gets a stable, made-up reading
    if unit == "fahrenheit":
        return f"{round(celsius * 9 / 5 + 32)} degrees fahrenheit in {city}"
    return f"{celsius} degrees celsius in {city}"


_OPERATORS: dict[type, Callable[..., Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
    ast.USub: operator.neg, ast.UAdd: operator.pos,
}


def _evaluate(node: ast.AST) -> float:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > 100:
            raise ValueError("exponents above 100 are not allowed")
        return _OPERATORS[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_evaluate(node.operand))
    raise ValueError(f"unsupported expression element {type(node).__name__}")


def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression with + - * / // % ** and parentheses.

    Args:
        expression: The arithmetic expression, e.g. (3 + 4) * 2.
    """
    # Parsed with ast and evaluated node by node: names, calls and attributes are rejected, never eval'd.
    value = _evaluate(ast.parse(expression, mode="eval"))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(round(value, 6) if isinstance(value, float) else value)


EXAMPLE_TOOLS: tuple[Callable[..., Any], ...] = (calculate_tip, get_weather, calculator)
