"""Seeded synthetic conversations that teach the embedded model to read a tools block and copy values.

Each `Example` is a chat request as a client sends it (OpenAI messages, tool declarations,
enable_thinking) plus the assistant message that should answer it (`target`: reasoning when thinking is
on, then content or tool calls). Tools are drawn per conversation (`intents.tool_for`): random names,
worded descriptions and parameter names, optional fields, and some of the time the cookbook's three
example tools, exactly or with a reworded description. Half the intents asked for are invented for the
conversation (`invented`), so the tools block has to be read; `Mix` says how much, and SHIPPED_MIX draws
stage 2's data (the catalogue only), on which earlier figures and floors were measured. Results are synthesized (`catalogue`), never run.

Kinds (the hand-written set's names): tool_call, tool_result, no_tool (nothing offered fits: say so;
a chat question with tools offered: answer it), greeting, memory, two_step (two calls in one trajectory,
the first's reasoning kept or dropped as clients do). Any of them may follow earlier exchanges.
`expect` says what a right reply holds, in the hand-written set's form, so one scorer reads both sets.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from nanokit.tiny.catalogue import BY_KEY, EXAMPLE_ROLES, EXAMPLE_SCHEMAS, INTENTS
from nanokit.tiny.intents import Intent, Request, Tool, ask, description, tool_for
from nanokit.tiny.invented import invent
from nanokit.tiny.talk import (
    FACTS,
    chat_reply,
    greeting_turn,
    memory_question,
    refusal,
    styled,
    system_prompt,
    two_step_question,
)
from nanokit.tiny.values import Split


@dataclass(frozen=True)
class Mix:
    """What the generator draws besides the catalogue's intents as they were first written.

    `invented`: the share of requests for an intent invented for the conversation (nanokit.tiny.invented);
    `renamed`: whether a catalogue tool's parameters are sometimes named for that one tool (intents.tool_for);
    `composed`: whether memory questions and two-request messages draw from talk's composed wordings.
    """

    invented: float = 0.5
    renamed: bool = True
    composed: bool = True


MIX = Mix()  # the generator's data now: what `nanokit tiny train` trains on and the held-out split it draws
# Stage 2's data (the weights shipped until 2026-12-01): catalogue intents only, their names from its lists;
# the integration slice, the fine-tune problems and earlier results are measured on it.
# Drawn with it, the generator gives the very conversations it gave then (the 600 held-out cases and the
# training stream were compared with those of commit b2f9b0a, the generator before invented intents).
SHIPPED_MIX = Mix(invented=0.0, renamed=False, composed=False)
KINDS = ("tool_call", "tool_result", "no_tool", "greeting", "memory", "two_step")
WEIGHTS = {"tool_call": 30, "tool_result": 20, "no_tool": 16, "greeting": 8, "memory": 8, "two_step": 18}


@dataclass(frozen=True)
class Example:
    kind: str
    messages: tuple[dict[str, Any], ...]
    tools: tuple[dict[str, Any], ...]
    enable_thinking: bool
    target: dict[str, Any]          # the assistant message to produce (reasoning_content when thinking is on)
    expect: dict[str, Any]          # what a right reply holds (the hand-written set's `expect` form)
    id: str = ""
    meta: dict[str, Any] = field(default_factory=dict, compare=False)


def openai_call(name: str, arguments: dict[str, Any], call_id: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}


def assistant(content: str = "", reasoning: str = "", calls: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if calls:
        message["tool_calls"] = list(calls)
    if reasoning:
        message["reasoning_content"] = reasoning
    return message


def _say(values: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in values.items()) if values else "no arguments"


def call_reasoning(request: Request) -> str:
    tool = request.tool
    return (f"The user wants to {tool.intent.ability}. The tool {tool.name} fits: "
            f"{tool.schema['function']['description']} I will call {tool.name} with {_say(request.arguments)}.")


# --- tool sets ----------------------------------------------------------------------------------

def example_tool(rng: random.Random, name: str, split: Split, reword: bool) -> Tool:
    """One of the cookbook's example tools, its exact schema, or with the description worded anew."""
    key, roles = EXAMPLE_ROLES[name]
    schema = json.loads(json.dumps(EXAMPLE_SCHEMAS[name]))
    if reword:
        schema["function"]["description"] = description(rng, BY_KEY[key], split)
    return Tool(BY_KEY[key], schema, {r: p for r, p in roles.items() if p in schema["function"]["parameters"]["properties"]})


def intent(rng: random.Random, split: Split, mix: Mix = MIX) -> Intent:
    """The intent one request is for: one of the catalogue's, or one invented for this conversation."""
    return invent(rng, split) if mix.invented and rng.random() < mix.invented else rng.choice(INTENTS)


def _other(rng: random.Random, split: Split, taken: list[Intent], mix: Mix) -> Intent:
    """An intent unlike every one in `taken` (another catalogue key, or an invented one with its own object)."""
    keys, nouns = {i.key for i in taken}, {n for i in taken for n in i.nouns}
    while True:
        drawn = intent(rng, split, mix)
        if drawn.key not in keys and not nouns & set(drawn.nouns):
            return drawn


def toolset(rng: random.Random, split: Split, need: tuple[Intent, ...] = (), avoid: tuple[Intent, ...] = (),
            size: int | None = None, mix: Mix = MIX) -> list[Tool]:
    """Tools for one conversation: the intents in `need`, others at random (never `avoid`), shuffled."""
    size = max(len(need), size if size is not None else rng.choice((1, 1, 2, 2, 3, 3, 4, 5)))
    chosen = list(need)
    if not mix.invented:  # the catalogue only, drawn as the shipped weights' data was
        taken = {i.key for i in need + avoid}
        chosen += rng.sample([i for i in INTENTS if i.key not in taken], size - len(need))
    while len(chosen) < size:
        chosen.append(_other(rng, split, chosen + list(avoid), mix))
    tools, names = [], set()
    examples_now = rng.random() < 0.35
    for wanted in chosen:
        exact = [n for n, (k, _) in EXAMPLE_ROLES.items() if k == wanted.key]
        if examples_now and exact and rng.random() < 0.8:
            tool = example_tool(rng, exact[0], split, reword=rng.random() < 0.4)
        else:
            tool = tool_for(rng, wanted, split, renamed=mix.renamed)
            # A drawn name may be another tool's here ("text" for messages and for translations), and the
            # example tools' names stand for their own schemas: draw again, so every needed intent is offered.
            while tool.name in names or tool.name in EXAMPLE_SCHEMAS:
                tool = tool_for(rng, wanted, split, renamed=mix.renamed)
        tools.append(tool)
        names.add(tool.name)
    rng.shuffle(tools)
    return tools


def schemas(tools: list[Tool]) -> tuple[dict[str, Any], ...]:
    return tuple(t.schema for t in tools)


# --- one exchange each ----------------------------------------------------------------------------

@dataclass
class Turns:
    """A conversation being built: the messages so far and the counter for call ids."""

    messages: list[dict[str, Any]]
    calls: int = 0

    def call_id(self) -> str:
        self.calls += 1
        return f"call_{self.calls}"


def _answer(rng: random.Random, request: Request, key: str) -> str:
    texts = {role: str(value) for role, value in request.values.items()} | {"key": key}
    usable = [a for a in request.tool.intent.answers if all(s in texts for s in _slots(a))]
    template = rng.choice(usable)
    for slot, text in texts.items():
        template = template.replace("{" + slot + "}", text)
    return template


def _slots(template: str) -> list[str]:
    from nanokit.tiny.intents import slots

    return sorted(slots(template))


def _call_turn(turns: Turns, request: Request, reasoning: str) -> dict[str, Any]:
    return assistant(reasoning=reasoning, calls=(openai_call(request.tool.name, request.arguments, turns.call_id()),))


def _tool_message(turns: Turns, result: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": f"call_{turns.calls}", "content": result}


def _result_reasoning(request: Request, result: str, key: str) -> str:
    return f"{request.tool.name} returned {result}. I will tell the user {key}."


def _expected_call(request: Request) -> dict[str, Any]:
    return {"name": request.tool.name, "arguments": request.arguments}


def draw(rng: random.Random, split: Split, kind: str, thinking: bool, mix: Mix = MIX) -> Example:
    """One example of `kind`, perhaps after earlier exchanges under the same tools."""
    need: tuple[Intent, ...] = ()
    if kind in ("tool_call", "tool_result"):
        need = (intent(rng, split, mix),)
    elif kind == "two_step" and not mix.invented:
        need = tuple(rng.sample(INTENTS, 2))
    elif kind == "two_step":
        first = intent(rng, split, mix)
        need = (first, _other(rng, split, [first], mix))
    want = intent(rng, split, mix)
    avoid = (want,) if kind == "no_tool" else ()
    tools = [] if kind == "no_tool" and rng.random() < 0.15 else toolset(rng, split, need, avoid, mix=mix)
    turns = Turns(system_prompt(rng, split))
    for _ in range(rng.choice((0, 0, 0, 1, 1, 2))):
        _history_exchange(rng, split, turns, tools)
    return _final(rng, split, kind, thinking, turns, tools, need, want, mix)


def _history_exchange(rng: random.Random, split: Split, turns: Turns, tools: list[Tool]) -> None:
    """An earlier question and its answer (reasoning sometimes sent back; the template drops it)."""
    keep = rng.random() < 0.3
    if tools and rng.random() < 0.5:
        request = ask(rng, rng.choice(tools), split, styled(rng, split))
        result, key = request.tool.intent.result(rng, request.values)
        turns.messages += [{"role": "user", "content": request.question},
                           _call_turn(turns, request, call_reasoning(request) if keep else ""),
                           _tool_message(turns, result),
                           assistant(_answer(rng, request, key), _result_reasoning(request, result, key) if keep else "")]
        return
    question, answer, reasoning = chat_reply(rng, split)
    turns.messages += [{"role": "user", "content": question}, assistant(answer, reasoning if keep else "")]


def _final(rng: random.Random, split: Split, kind: str, thinking: bool, turns: Turns, tools: list[Tool],
           need: tuple[Intent, ...], want: Intent, mix: Mix) -> Example:
    think = (lambda text: text) if thinking else (lambda text: "")
    offered = schemas(tools)
    by_intent = {t.intent.key: t for t in tools}
    if kind in ("tool_call", "tool_result"):
        request = ask(rng, by_intent[need[0].key], split, styled(rng, split))
        turns.messages.append({"role": "user", "content": request.question})
        if kind == "tool_call":
            target = _call_turn(turns, request, think(call_reasoning(request)))
            return Example(kind, tuple(turns.messages), offered, thinking, target, {"call": _expected_call(request)})
        result, key = request.tool.intent.result(rng, request.values)
        turns.messages += [_call_turn(turns, request, think(call_reasoning(request)) if rng.random() < 0.5 else ""),
                           _tool_message(turns, result)]
        target = assistant(_answer(rng, request, key), think(_result_reasoning(request, result, key)))
        return Example(kind, tuple(turns.messages), offered, thinking, target, {"contains": [key]})
    if kind == "two_step":
        return _two_step(rng, split, thinking, turns, [by_intent[i.key] for i in need], offered, mix.composed)
    if kind == "greeting":
        question, answer, reasoning, name = greeting_turn(rng, split)
        turns.messages.append({"role": "user", "content": question})
        return Example(kind, tuple(turns.messages), offered, thinking, assistant(answer, think(reasoning)),
                       {"contains": [name] if name else []})
    if kind == "memory":
        question, answer, reasoning, name = greeting_turn(rng, split, named=True)
        turns.messages += [{"role": "user", "content": question}, assistant(answer)]
        if rng.random() < 0.5:
            _history_exchange(rng, split, turns, tools)
        question, answer, reasoning = memory_question(rng, split, name, composed=mix.composed)
        turns.messages.append({"role": "user", "content": question})
        return Example(kind, tuple(turns.messages), offered, thinking, assistant(answer, think(reasoning)),
                       {"contains": [name]})
    # no_tool: a request no offered tool can serve, or a chat question with tools on the table
    if rng.random() < 0.6:
        request = ask(rng, tool_for(rng, want, split, renamed=mix.renamed), split, styled(rng, split))
        answer, reasoning = refusal(rng, request.tool.intent.ability, [t.name for t in tools])
        question = request.question
    else:
        question, answer, reasoning = chat_reply(rng, split)
    turns.messages.append({"role": "user", "content": question})
    return Example(kind, tuple(turns.messages), offered, thinking, assistant(answer, think(reasoning)), {"no_call": True})


def _two_step(rng: random.Random, split: Split, thinking: bool, turns: Turns, tools: list[Tool],
              offered: tuple[dict[str, Any], ...], composed: bool = True) -> Example:
    """Two requests in one question; the target is one of the three turns, the earlier ones in history."""
    first, second = (ask(rng, tool, split, styled(rng, split)) for tool in tools)
    turns.messages.append({"role": "user", "content": two_step_question(rng, split, first.question, second.question, composed)})
    results = [r.tool.intent.result(rng, r.values) for r in (first, second)]
    steps = [{"call": _expected_call(r), "result": res} for r, (res, _) in zip((first, second), results)]
    expect = {"steps": steps, "contains": [results[1][1]]}
    reasonings = [
        f"The user asks for two things. First: {call_reasoning(first)}",
        f"{first.tool.name} returned {results[0][0]}. Next: {call_reasoning(second)}",
        f"{second.tool.name} returned {results[1][0]}. I have both results and will answer.",
    ]
    answer = f"{_answer(rng, first, results[0][1])} {_answer(rng, second, results[1][1])}"
    stop = rng.choice((0, 1, 1, 2, 2))
    keep = thinking and rng.random() < 0.5  # clients that send reasoning back vs those that drop it
    for index, request in enumerate((first, second)):
        reasoning = reasonings[index] if thinking and (index == stop or keep) else ""
        call = _call_turn(turns, request, reasoning)
        if index == stop:
            return Example("two_step", tuple(turns.messages), offered, thinking, call, expect, meta={"stop": stop})
        turns.messages += [call, _tool_message(turns, results[index][0])]
    target = assistant(answer, reasonings[2] if thinking else "")
    return Example("two_step", tuple(turns.messages), offered, thinking, target, expect, meta={"stop": stop})


def example(rng: random.Random, split: Split = "train", kind: str | None = None, thinking: bool | None = None,
            mix: Mix = MIX) -> Example:
    kind = kind or rng.choices(KINDS, weights=[WEIGHTS[k] for k in KINDS])[0]
    return draw(rng, split, kind, rng.random() < 0.5 if thinking is None else thinking, mix)


def examples(seed: int, split: Split = "train", mix: Mix = MIX) -> Iterator[Example]:
    """An endless, seeded stream of examples."""
    rng = random.Random(f"{split}-{seed}")
    while True:
        yield example(rng, split, mix=mix)


__all__ = ["FACTS", "KINDS", "MIX", "SHIPPED_MIX", "Example", "Mix", "assistant", "draw", "example", "examples", "intent", "openai_call", "toolset"]
