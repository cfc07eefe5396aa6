"""Seeded synthetic conversations that teach the embedded model Nemotron's chat protocol.

Each `Example` is a chat request exactly as a client sends it to vLLM (OpenAI messages, the tools
offered as `tool_schema` entries, enable_thinking) plus the assistant turn the model should produce:
optional reasoning, then either an answer or one Qwen3-Coder tool call. Tool results in the requests
come from really calling the example tools in `nanokit.tools`.

Families: tool questions (the right tool picked from a varying subset of offered tools), answers after
a tool result, greetings with a name to echo, facts the synthetic world defines, a name remembered
across turns, questions asked when the needed tool is not offered, and any of these as the second
question of a conversation whose earlier turns (reasoning dropped) come first.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from nanokit.tiny.world import FACTS, Split, city_name, number, person_name, phrasing
from nanokit.tools import EXAMPLE_TOOLS, tool_schema

SCHEMAS: dict[str, dict[str, Any]] = {fn.__name__: tool_schema(fn) for fn in EXAMPLE_TOOLS}
FUNCTIONS: dict[str, Callable[..., Any]] = {fn.__name__: fn for fn in EXAMPLE_TOOLS}

SYSTEM_PROMPTS = (
    "You are a helpful assistant.", "You are a helpful assistant that can use tools.",
    "You are a concise assistant.", "Answer briefly.", "You are a friendly assistant. Keep answers short.",
    "You are a helpful assistant. Use the tools when they help.",
)


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Example:
    """One request and the assistant turn that should answer it."""

    family: str
    messages: tuple[dict[str, Any], ...]
    tools: tuple[dict[str, Any], ...]
    enable_thinking: bool
    reasoning: str = ""
    content: str = ""
    tool_call: ToolCall | None = None
    expect_in_content: str = ""  # after a tool result: the result text the answer must contain
    # Whether the earlier assistant turns in `messages` are right for `tools` too, so that training may
    # put loss on them as well (true of `conversation()`, whose turns all share one tool set).
    history_targets: bool = False
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    def completion(self) -> str:
        """The assistant's generated text after the generation prompt, up to and including <|im_end|>."""
        body = render_tool_call(self.tool_call) if self.tool_call else self.content
        if self.enable_thinking:
            return f"{self.reasoning}\n</think>{body}<|im_end|>"
        return f"{body}<|im_end|>"

    def assistant_message(self) -> dict[str, Any]:
        """This turn as it comes back in a later request's history (reasoning dropped, as clients do)."""
        if self.tool_call:
            return {"role": "assistant", "content": "", "tool_calls": [openai_tool_call(self.tool_call, "call_0")]}
        return {"role": "assistant", "content": self.content}


def render_tool_call(call: ToolCall) -> str:
    """Qwen3-Coder XML, byte for byte as the chat template renders a call in the history."""
    params = "".join(f"<parameter={k}>\n{v}\n</parameter>\n" for k, v in call.arguments.items())
    return f"<tool_call>\n<function={call.name}>\n{params}</function>\n</tool_call>"


def openai_tool_call(call: ToolCall, call_id: str) -> dict[str, Any]:
    import json

    return {"id": call_id, "type": "function",
            "function": {"name": call.name, "arguments": json.dumps(call.arguments)}}


# --- the task a question asks for --------------------------------------------------------------

@dataclass(frozen=True)
class Task:
    question: str
    plan: str                 # the reasoning sentence that restates the task and plan
    call: ToolCall
    answer: Callable[[str], str]  # the sentence that reports a tool result


_TIP_QUESTIONS = (
    "What is a {p}% tip on a ${b} bill?", "How much should I tip on ${b} at {p}%?",
    "Calculate a {p}% tip for a bill of ${b}.", "My bill is ${b}. What is a {p}% tip?",
    "What's the tip on a {b} dollar bill at {p} percent?", "Tip for ${b} at {p}%?",
    "I paid {b} dollars for dinner. How much is a {p}% tip?", "Please work out a {p} percent tip on {b} dollars.",
    "We spent ${b} at the restaurant; what's {p}% of that as a tip?", "How big is a {p}% tip on ${b}?",
    # Templates appended later: the numbers often come first, so that a held-out phrasing opening with a
    # value is not the first time the model sees one there; every fifth is still held out.
    "${b} bill, {p}% tip. How much?", "{p}% tip on ${b}, please.", "${b} at {p} percent: what's the tip?",
    "{p} percent of {b} dollars as a tip?", "Figure out the tip: {p}% of ${b}.",
)
_TIP_ANSWERS = ("A {p}% tip on ${b} is ${r}.", "The tip is ${r}.", "You should tip ${r}.",
                "A {p}% tip on a ${b} bill comes to ${r}.")
_WEATHER_QUESTIONS = (
    "What's the weather like in {c}?", "How warm is it in {c} right now?", "What is the temperature in {c}?",
    "Is it cold in {c} today?", "Weather in {c}?", "Tell me the current temperature in {c}.",
    "Can you check the weather in {c}?", "How hot is it in {c}?", "I'm going to {c}. What's the weather there?",
    "What's it like outside in {c} today?",
    "{c} weather today?", "{c}: how warm is it?", "{c} right now, is it hot or cold?", "Weather report for {c}, please.",
    "Any idea how the weather is in {c}?",
)
_WEATHER_UNIT_QUESTIONS = (
    "What is the temperature in {c} in {u}?", "How warm is it in {c}? Answer in {u}.",
    "Give me the weather in {c} in {u}.", "What's the temperature in {c}, in {u} please?",
    "Check the weather in {c} using {u}.",
    "{c} temperature in {u}?", "Weather for {c} in {u}, please.", "In {u}, how warm is {c}?",
    "What is the weather in {c} today, in {u}?", "{c}, {u}: what's the temperature?",
)
_WEATHER_ANSWERS = ("It is {r} right now.", "Right now it is {r}.", "The current reading is {r}.",
                    "The weather report says {r}.")
_CALC_QUESTIONS = (
    "What is {e}?", "Calculate {e}.", "Compute {e} for me.", "Please evaluate {e}.", "Can you work out {e}?",
    "What does {e} come to?", "Solve {e}.", "How much is {e}?", "Use the calculator for {e}.", "{e} = ?",
    "{e}?", "{e} is how much?", "{e}, what do you get?", "{e}: work it out, please.", "Quick one: {e}",
)
_CALC_ANSWERS = ("{e} = {r}.", "The answer is {r}.", "{e} equals {r}.", "The result is {r}.")


def _tip_task(rng: random.Random, split: Split) -> Task:
    b = number(rng, 5, 400, split)
    p = rng.choice((10, 12, 15, 18, 20, 22, 25)) if rng.random() < 0.6 else number(rng, 5, 30, split)
    q = phrasing(rng, _TIP_QUESTIONS, split).format(b=b, p=p)
    plan = f"The user wants a {p}% tip on a ${b} bill. I will call calculate_tip with bill_total {b} and tip_percentage {p}."
    answer = rng.choice(_TIP_ANSWERS)
    return Task(q, plan, ToolCall("calculate_tip", {"bill_total": b, "tip_percentage": p}),
                lambda r: answer.format(p=p, b=b, r=r))


def _weather_task(rng: random.Random, split: Split) -> Task:
    c = city_name(rng, split)
    args: dict[str, Any] = {"city": c}
    if rng.random() < 0.35:
        u = rng.choice(("celsius", "fahrenheit"))
        args["unit"] = u
        q = phrasing(rng, _WEATHER_UNIT_QUESTIONS, split).format(c=c, u=u)
        plan = f"The user wants the weather in {c} in {u}. I will call get_weather with city {c} and unit {u}."
    else:
        q = phrasing(rng, _WEATHER_QUESTIONS, split).format(c=c)
        plan = f"The user wants the weather in {c}. I will call get_weather with city {c}."
    answer = rng.choice(_WEATHER_ANSWERS)
    return Task(q, plan, ToolCall("get_weather", args), lambda r: answer.format(r=r))


def _expression(rng: random.Random, split: Split) -> str:
    ops = ("+", "-", "*", "/")
    a, b = number(rng, 1, 999, split), number(rng, 1, 99, split)
    shape = rng.random()
    if shape < 0.6:
        return f"{a} {rng.choice(ops)} {b}"
    c = number(rng, 1, 50, split)
    if shape < 0.8:
        return f"{a} {rng.choice(ops)} {b} {rng.choice(ops[:3])} {c}"
    return f"({a} {rng.choice(ops[:2])} {b}) {rng.choice(ops[2:])} {c}"


def _calc_task(rng: random.Random, split: Split) -> Task:
    e = _expression(rng, split)
    q = phrasing(rng, _CALC_QUESTIONS, split).format(e=e)
    plan = f"The user wants the value of {e}. I will call calculator with expression {e}."
    answer = rng.choice(_CALC_ANSWERS)
    return Task(q, plan, ToolCall("calculator", {"expression": e}), lambda r: answer.format(e=e, r=r))


TASKS: dict[str, Callable[[random.Random, Split], Task]] = {
    "calculate_tip": _tip_task, "get_weather": _weather_task, "calculator": _calc_task,
}


def run_tool(call: ToolCall) -> str:
    """Really call the example tool, as the cookbook's tool loop does, and return its result as text."""
    return str(FUNCTIONS[call.name](**call.arguments))


# --- requests ------------------------------------------------------------------------------------

def _system(rng: random.Random) -> list[dict[str, Any]]:
    return [] if rng.random() < 0.4 else [{"role": "system", "content": rng.choice(SYSTEM_PROMPTS)}]


def _offered(rng: random.Random, must: str | None = None, never: str | None = None) -> tuple[dict, ...]:
    """A random subset of the example tools in random order, containing `must`, not containing `never`."""
    names = [n for n in SCHEMAS if n != never]
    chosen = [n for n in names if n == must or rng.random() < 0.6]
    if must is None and not chosen and rng.random() < 0.5:
        chosen = [rng.choice(names)]
    rng.shuffle(chosen)
    return tuple(SCHEMAS[n] for n in chosen)


Tools = tuple[dict[str, Any], ...]


def _names(tools: Tools) -> list[str]:
    return [t["function"]["name"] for t in tools]


def tool_question(rng: random.Random, split: Split, thinking: bool, history: list, tool: str | None = None,
                  tools: Tools | None = None) -> Example:
    """`tools`, when given, is the tool set offered (and `tool` must be in it); else a random one with `tool`."""
    tool = tool or rng.choice(_names(tools) if tools else list(TASKS))
    task = TASKS[tool](rng, split)
    messages = history + [{"role": "user", "content": task.question}]
    return Example("tool_call", tuple(messages), tools if tools is not None else _offered(rng, must=tool), thinking,
                   reasoning=task.plan, tool_call=task.call, meta={"task": task})


def tool_result(rng: random.Random, split: Split, thinking: bool, history: list, tool: str | None = None,
                tools: Tools | None = None) -> Example:
    asked = tool_question(rng, split, thinking, history, tool, tools)
    task: Task = asked.meta["task"]
    result = run_tool(task.call)
    messages = list(asked.messages) + [
        openai_assistant := asked.assistant_message(),
        {"role": "tool", "tool_call_id": openai_assistant["tool_calls"][0]["id"], "content": result},
    ]
    plan = f"The {task.call.name} tool returned {result}. I will give the user this result."
    return Example("tool_result", tuple(messages), asked.tools, thinking, reasoning=plan,
                   content=task.answer(result), expect_in_content=result)


_GREETINGS = ("Hi, I'm {n}!", "Hello, my name is {n}.", "Hey there, I am {n}.", "Good morning! {n} here.",
              "Hi! My name is {n}.", "Hello! I'm {n}. Nice to meet you.", "Hey, {n} here. How are you?",
              "Greetings, I am {n}.", "Hi there, this is {n}.", "Hello from {n}!")
_GREETING_REPLIES = ("Hello {n}! How can I help you today?", "Nice to meet you, {n}! What can I do for you?",
                     "Hi {n}! How can I help?", "Hello, {n}! What would you like to know?")
_PLAIN_GREETINGS = ("Hello!", "Hi", "Hey there!", "Good morning!", "Hi, how are you?", "Hello, who is this?")
_NAME_QUESTIONS = ("What is my name?", "Do you remember my name?", "What's my name?", "Who am I?",
                   "Can you tell me my name?", "What did I say my name was?")


def _tools_or_random(rng: random.Random, tools: Tools | None) -> Tools:
    return tools if tools is not None else _offered(rng)


def greeting(rng: random.Random, split: Split, thinking: bool, history: list, tools: Tools | None = None) -> Example:
    if rng.random() < 0.2:
        q = rng.choice(_PLAIN_GREETINGS)
        return Example("greeting", tuple(history + [{"role": "user", "content": q}]), _tools_or_random(rng, tools),
                       thinking,
                       reasoning="The user greets me. No tool is needed; I will greet them back.",
                       content="Hello! How can I help you today?")
    name = person_name(rng, split)
    q = phrasing(rng, _GREETINGS, split).format(n=name)
    return Example("greeting", tuple(history + [{"role": "user", "content": q}]), _tools_or_random(rng, tools),
                   thinking, reasoning=f"The user greets me and says their name is {name}. I will greet {name} back.",
                   content=rng.choice(_GREETING_REPLIES).format(n=name), expect_in_content=name)


def fact(rng: random.Random, split: Split, thinking: bool, history: list, tools: Tools | None = None) -> Example:
    question, answer = rng.choice(FACTS)
    return Example("fact", tuple(history + [{"role": "user", "content": question}]), _tools_or_random(rng, tools),
                   thinking,
                   reasoning="The user asks a simple question I can answer directly. No tool is needed.",
                   content=answer)


def memory(rng: random.Random, split: Split, thinking: bool, history: list, tools: Tools | None = None) -> Example:
    """'My name is X' early in the conversation, 'What is my name?' at the end."""
    intro = greeting(rng, split, thinking, history, tools)
    while not intro.expect_in_content:  # a plain greeting has no name to remember
        intro = greeting(rng, split, thinking, history, tools)
    name, offered = intro.expect_in_content, intro.tools
    messages = list(intro.messages) + [intro.assistant_message()]
    if rng.random() < 0.5:  # something else happens in between
        between = rng.choice((fact, tool_result) if tools is None or tools else (fact,))(
            rng, split, thinking, messages, tools=tools)
        messages = list(between.messages) + [{"role": "assistant", "content": between.content}]
        offered = between.tools
    messages.append({"role": "user", "content": rng.choice(_NAME_QUESTIONS)})
    return Example("memory", tuple(messages), offered, thinking,
                   reasoning=f"Earlier in this conversation the user said their name is {name}.",
                   content=f"Your name is {name}.", expect_in_content=name)


_MISSING = {
    "get_weather": "I don't have a weather tool here, so I can't check the weather in {x}.",
    "calculate_tip": "I don't have a tip calculator tool here, so I can't work out that tip for you.",
    "calculator": "I don't have a calculator tool here, so I can't evaluate {x} reliably.",
}


def missing_tool(rng: random.Random, split: Split, thinking: bool, history: list,
                 tools: Tools | None = None) -> Example:
    tool = rng.choice([n for n in TASKS if n not in _names(tools)] if tools is not None else list(TASKS))
    task = TASKS[tool](rng, split)
    x = task.call.arguments.get("city") or task.call.arguments.get("expression") or ""
    return Example("missing_tool", tuple(history + [{"role": "user", "content": task.question}]),
                   tools if tools is not None else _offered(rng, never=tool), thinking,
                   reasoning=f"The user needs {tool}, but that tool is not offered. I will say so.",
                   content=_MISSING[tool].format(x=x))


FAMILIES: dict[str, tuple[Callable[..., Example], float]] = {
    "tool_call": (tool_question, 0.30),
    "tool_result": (tool_result, 0.24),
    "greeting": (greeting, 0.13),
    "fact": (fact, 0.10),
    "memory": (memory, 0.15),
    "missing_tool": (missing_tool, 0.08),
}


def _history(rng: random.Random, split: Split, thinking: bool) -> list[dict[str, Any]]:
    """An earlier, finished exchange (or none) that a second question follows."""
    messages = _system(rng)
    if rng.random() < 0.35:
        family = rng.choice(("tool_result", "greeting", "fact"))
        earlier = FAMILIES[family][0](rng, split, rng.random() < 0.5, list(messages))
        messages = list(earlier.messages) + [{"role": "assistant", "content": earlier.content}]
    return messages


def example(rng: random.Random, split: Split = "train", family: str | None = None,
            thinking: bool | None = None) -> Example:
    """One example of `family` (or a weighted random family)."""
    if family is None:
        names = list(FAMILIES)
        family = rng.choices(names, weights=[FAMILIES[n][1] for n in names])[0]
    thinking = rng.random() < 0.5 if thinking is None else thinking
    return FAMILIES[family][0](rng, split, thinking, _history(rng, split, thinking))


def examples(seed: int, split: Split = "train") -> Iterator[Example]:
    """An endless, seeded stream of examples."""
    rng = random.Random(f"{split}-{seed}")
    while True:
        yield example(rng, split)


# --- longer conversations for training ----------------------------------------------------------

def _fits(family: str, tools: Tools, final: bool) -> bool:
    if family == "tool_call":
        return final and bool(tools)  # a call ends the conversation: its result would be the next turn
    if family == "tool_result":
        return bool(tools)
    if family == "missing_tool":
        return len(tools) < len(TASKS)
    return True


def conversation(rng: random.Random, split: Split = "train", *, max_exchanges: int = 4) -> Example:
    """Up to `max_exchanges` exchanges under one tool set; the last is the example's own turn.

    Every earlier assistant turn is exactly what the model should answer at that point with reasoning off
    (the template renders history turns as `<think></think>` + answer, the thinking-off generation), so
    training puts loss on all of them: several lessons for one rendering of the tool descriptions.
    """
    tools = _offered(rng)
    thinking = rng.random() < 0.5
    names = list(FAMILIES)
    messages = _system(rng)
    exchanges = rng.randint(1, max_exchanges)
    for index in range(exchanges):
        final = index == exchanges - 1
        fitting = [n for n in names if _fits(n, tools, final)]
        family = rng.choices(fitting, weights=[FAMILIES[n][1] for n in fitting])[0]
        ex = FAMILIES[family][0](rng, split, thinking if final else False, list(messages), tools=tools)
        if final:
            return dataclasses.replace(ex, history_targets=True)
        messages = list(ex.messages) + [ex.assistant_message()]
    raise AssertionError("unreachable")


def conversations(seed: int, split: Split = "train", *, max_exchanges: int = 4) -> Iterator[Example]:
    """An endless, seeded stream of `conversation()`s."""
    rng = random.Random(f"{split}-conversations-{seed}")
    while True:
        yield conversation(rng, split, max_exchanges=max_exchanges)
