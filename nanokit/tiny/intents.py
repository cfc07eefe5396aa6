"""What a user can ask a tool for, and how one request for it is drawn: a tool schema, a question, a call.

An `Intent` (checking the weather, converting money, ...) lists the words its tools may be named and
described with, its parameters, the questions that ask for it and the shapes of its results. `tool_for`
draws one tool declaration for it (name style, description wording, parameter names, optional fields),
`ask` draws a question with fresh values and the exact call that answers it, its arguments typed as the
schema says and written in the question exactly as `str()` renders them, so a call is a copy.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nanokit.tiny.values import Split, held_out, on_side, pick, pseudo_word

JSON_TYPES = {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean", "enum": "string"}


@dataclass(frozen=True)
class Param:
    role: str                                  # the slot name in questions, e.g. "city"
    names: tuple[str, ...]                     # parameter names a tool may give it
    kind: str                                  # string | integer | number | boolean | enum
    draw: Callable[[random.Random, Split], Any]
    descriptions: tuple[str, ...]
    optional: bool = False
    enum: tuple[str, ...] = ()
    # How a value is written in a question when that is not str(value) (booleans, enum synonyms).
    surfaces: dict[Any, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Intent:
    key: str
    ability: str                               # "check the weather": for reasoning and refusals
    verbs: tuple[str, ...]
    nouns: tuple[str, ...]
    descriptions: tuple[str, ...]
    params: tuple[Param, ...]
    questions: tuple[str, ...]
    result: Callable[[random.Random, dict[str, Any]], tuple[str, str]]  # (tool result text, value to restate)
    answers: tuple[str, ...]
    invented: bool = False                     # drawn for one conversation (nanokit.tiny.invented)


@dataclass(frozen=True)
class Tool:
    """One drawn declaration of an intent: the OpenAI schema and which parameter plays which role."""

    intent: Intent
    schema: dict[str, Any]
    roles: dict[str, str]                      # role -> parameter name

    @property
    def name(self) -> str:
        return self.schema["function"]["name"]


@dataclass(frozen=True)
class Request:
    tool: Tool
    question: str
    arguments: dict[str, Any]
    values: dict[str, Any]                     # role -> value, for answers and reasoning


def _style(words: list[str], rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.55:
        return "_".join(words)
    if roll < 0.9:
        return words[0] + "".join(w[:1].upper() + w[1:] for w in words[1:])
    return "".join(words)


def tool_name(rng: random.Random, intent: Intent, split: Split, strict: bool = True) -> str:
    """A snake_case or camelCase name from the intent's words, or now and then an opaque one (only the
    description then says what the tool does).

    A catalogue intent's names are many, so `strict` draws on until one is on the split's side: 50 tries
    left a train-side name in the held-out split now and then ("tip_amount"). strict=False keeps the 50,
    for the shipped mix's draws to stay those its weights were measured on. An invented intent's few names
    may all be on the other side, so it makes one up."""
    for _ in range(1000 if strict and not intent.invented else 50):
        if rng.random() < 0.15:
            words = [pseudo_word(rng).lower(), rng.choice(("tool", "api", "fn", "service", "helper", "v2"))]
        else:
            words = [rng.choice(intent.verbs), *rng.choice(intent.nouns).split()] if rng.random() < 0.8 \
                else rng.choice(intent.nouns).split()
        name = _style([w for part in words for w in part.split("_")], rng)
        if held_out(name) == (split == "eval"):
            return name
    if not intent.invented:
        return name
    # An invented intent has one verb and one object, whose few names may all fall on the other side.
    return on_side(rng, split, lambda: _style([pseudo_word(rng).lower(), rng.choice(intent.nouns)], rng))


_DESCRIPTION_FRAMES = ("{d}", "Use this to {l}", "This tool will {l}", "Tool that can {l}",
                       "{d} Returns the result.", "Call this function to {l}", "{d} Works for any input.",
                       "Helper: {l}")


_FILLERS = ("Fast.", "Uses live data.", "Internal API.", "Beta.", "Free to use.", "No login needed.",
            "Results are approximate.", "Rate limited.", "Made by the platform team.", "Deprecated soon.",
            "Call it once per request.", "Returns JSON.", "Works offline.", "Please be polite.")
_COMPOSED = ("{V} the {n} for the given {p}.", "{V}s {n} ({p}).", "{n}: {v} it from {p}.", "{V} {n} by {p}",
             "Tool to {v} {n}. Input: {p}.", "{V} a {n}; needs {p}.", "Given {p}, {v} the {n}.")


def description(rng: random.Random, intent: Intent, split: Split) -> str:
    """One of the intent's descriptions, plain or in a frame ("Use this to ..."), from the split's side.

    While training, half of them are also composed from the intent's own verbs, nouns and parameter names,
    or roughed up (a word dropped, a filler sentence or a made-up word added, lowercased): a wording seen
    once cannot be memorised as the intent's, so the model has to match the words a question shares with
    a description (the first recipe learnt its descriptions by heart and refused tools worded anew).
    """
    worded = [frame.format(d=base, l=base[:1].lower() + base[1:])
              for base in intent.descriptions for frame in _DESCRIPTION_FRAMES]
    plain = [d for d in intent.descriptions if held_out(d) == (split == "eval")]
    text = rng.choice(plain) if plain and rng.random() < 0.4 else pick(rng, sorted(set(worded)), split)
    if split != "train" or rng.random() < 0.5:
        return text
    if rng.random() < 0.4:
        verb = rng.choice(intent.verbs).replace("_", " ")
        param = " and ".join(rng.choice(p.names).replace("_", " ") for p in intent.params if not p.optional)
        text = rng.choice(_COMPOSED).format(V=verb[:1].upper() + verb[1:], v=verb,
                                            n=rng.choice(intent.nouns).replace("_", " "), p=param or "nothing")
    return _roughen(rng, text)


def _roughen(rng: random.Random, text: str) -> str:
    words = text.split()
    if len(words) > 4 and rng.random() < 0.3:
        del words[rng.randrange(1, len(words))]
    if rng.random() < 0.2:
        words.insert(rng.randrange(len(words) + 1), pseudo_word(rng).lower())
    text = " ".join(words)
    if rng.random() < 0.4:
        filler = rng.choice(_FILLERS)
        text = f"{filler} {text}" if rng.random() < 0.3 else f"{text} {filler}"
    return text.lower() if rng.random() < 0.15 else text


def param_name(rng: random.Random, word: str, noun: str) -> str:
    """The schema's name for a parameter called `word`: snake or camel case, sometimes prefixed."""
    parts = word.split()
    roll = rng.random()
    if roll < 0.15:
        parts = noun.split()[-1:] + parts
    elif roll < 0.25:
        parts = [rng.choice(("new", "target", "the", "input", "desired"))] + parts
    elif roll < 0.32:
        parts = parts + [rng.choice(("value", "name", "id", "code"))]
    if rng.random() < 0.6:
        return "_".join(parts)
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def _param_schema(rng: random.Random, param: Param, split: Split, opaque: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": JSON_TYPES[param.kind]}
    if param.kind == "enum":
        schema["enum"] = list(param.enum)
    if rng.random() < 0.85 or opaque:
        schema["description"] = pick(rng, param.descriptions, split, share=4)
    return schema


def _words(name: str) -> str:
    """A parameter name's words: "bill_total" and "billTotal" both give "bill total"."""
    return re.sub(r"([a-z])([A-Z])", r"\1 \2", name).replace("_", " ").lower()


def tool_for(rng: random.Random, intent: Intent, split: Split, renamed: bool = True) -> Tool:
    """A fresh declaration of `intent`: drawn name, description, parameter names and order of optionals."""
    roles, properties, required = {}, {}, []
    for param in intent.params:
        if param.optional and rng.random() < 0.3:
            continue  # this declaration leaves the optional parameter out
        roll = rng.random() if renamed else 1.0
        if roll < 0.2:  # a name made for this tool from one of the usual ones, so only the schema says it
            name = param_name(rng, _words(rng.choice(param.names)), _words(intent.nouns[0]))
        elif roll < 0.28:  # an opaque name: only its description says what it takes
            name = pseudo_word(rng).lower()
        else:
            name = pick(rng, param.names, split, share=4)
        while name in properties:  # two roles named alike ("text" and "text"): make the second its own
            name = name + "_" + (pseudo_word(rng).lower() if intent.invented else param.role)
        roles[param.role] = name
        properties[name] = _param_schema(rng, param, split, opaque=0.2 <= roll < 0.28)
        if not param.optional:
            required.append(name)
    function = {"name": tool_name(rng, intent, split, strict=renamed), "description": description(rng, intent, split),
                "parameters": {"type": "object", "properties": properties, "required": required}}
    return Tool(intent, {"type": "function", "function": function}, roles)


SLOT = re.compile(r"\{(\w+)\}")


def slots(template: str) -> set[str]:
    return set(SLOT.findall(template))


def fill(template: str, texts: dict[str, str]) -> str:
    return SLOT.sub(lambda m: texts[m.group(1)], template)


def surface(rng: random.Random, param: Param, value: Any) -> str:
    options = param.surfaces.get(value)
    return rng.choice(options) if options else str(value)


def ask(rng: random.Random, tool: Tool, split: Split, style: Callable[[str], str] = str) -> Request:
    """A question for `tool` with fresh values, and the call that answers it.

    Templates are chosen among those that name every required role the tool has; an optional role the
    template names goes into the arguments when the tool declares it (else the template is not used).
    `style` rewrites the template's own words (lowercase, a greeting first...), never the values.
    """
    intent = tool.intent
    required = {p.role for p in intent.params if not p.optional}
    fitting = [q for q in intent.questions if required <= slots(q) and slots(q) <= set(tool.roles) | required]
    template = style(pick(rng, fitting, split))
    values = {p.role: p.draw(rng, split) for p in intent.params if p.role in slots(template)}
    properties = tool.schema["function"]["parameters"]["properties"]
    for role, value in values.items():  # an integer parameter (calculate_tip's bill_total) gets a whole number
        if isinstance(value, float) and properties[tool.roles[role]]["type"] == "integer":
            values[role] = int(value)
    texts = {p.role: surface(rng, p, values[p.role]) for p in intent.params if p.role in values}
    arguments = {tool.roles[p.role]: values[p.role] for p in intent.params if p.role in values}
    return Request(tool, fill(template, texts), arguments, values)
