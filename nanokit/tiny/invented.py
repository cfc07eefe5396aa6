"""Intents invented per conversation: made-up tasks whose tools can only be used by reading them.

The catalogue's fourteen intents are real tasks in real words, and a model of a few million
parameters learns them by heart: the 2026-12-01 weights made 92-97% exact calls on the generator's
training side and 10-18% on its held-out side, and 22 of 60 held-out failures wrote a parameter name
remembered from training that the offered schema did not have. An invented intent leaves nothing to
remember. Its verb and object, its parameters (names, types, enums, optional fields) and the values
asked for are drawn for each conversation, so the question, the tool's description and its parameter
names share words only with one another: to call it right the model has to find the tool whose words
the question uses, and copy each value to the parameter named (or described) beside it.

Objects and parameter words are ordinary English or made up; none is a word of a hand-written
evaluation tool's name or description (tests/test_tiny_data.py checks), so those tools stay unseen.
Every list is hash-partitioned like the values, so the held-out split invents with words training
never used.
"""

from __future__ import annotations

import json
import random
from typing import Any

from nanokit.tiny.intents import Intent, Param, param_name
from nanokit.tiny.values import (
    amount,
    city_name,
    code,
    decimal,
    integer,
    person_name,
    phrase,
    pick,
    pseudo_word,
)

VERBS = ("cancel", "renew", "register", "archive", "restore", "reserve", "rename", "inspect", "rate", "print",
         "scan", "ship", "assign", "approve", "reject", "clean", "paint", "repair", "unlock", "lock", "rent",
         "borrow", "sell", "buy", "tag", "upload", "sync", "publish", "estimate", "measure", "sort", "label",
         "issue", "refill", "charge", "wash", "water", "feed", "polish", "pack", "deliver", "review", "grade",
         "update", "close", "launch", "pause", "resume", "prepare", "design", "draft", "sketch", "plant")
OBJECTS = ("ticket", "invoice", "badge", "locker", "voucher", "poster", "survey", "banner", "garden plot", "bike",
           "scooter", "tent", "canoe", "lesson", "seminar", "course", "parking spot", "meeting slot", "desk",
           "printer", "scanner", "ledger", "receipt", "budget", "quiz", "puzzle", "sticker", "candle", "blanket",
           "kite", "backpack", "charger", "cable", "laptop", "permit", "license", "contract", "newsletter",
           "podcast", "badge photo", "bookshelf", "aquarium", "greenhouse", "drone", "robot", "boat", "trailer",
           "costume", "trophy", "helmet", "lantern", "notebook", "passport photo", "gift card", "workshop",
           "membership", "subscription", "storage unit", "warehouse slot", "sailboat", "studio", "wallpaper")
# parameter words: what a value is called in the question, the schema's name and its description
_STRING_WORDS = ("owner", "nickname", "label", "colour", "color", "brand", "model", "style", "title", "author",
                 "team", "region", "station", "venue", "street", "district", "project", "customer", "vendor",
                 "theme", "pattern", "fabric", "material", "flavour", "tag", "alias", "section", "branch", "plan")
_NUMBER_WORDS = ("size", "count", "budget", "limit", "level", "floor", "row", "seat", "width", "depth", "score",
                 "rating", "capacity", "duration", "deposit", "discount", "version", "priority", "copies",
                 "days", "hours", "pages", "slots", "batch", "max cost", "min score", "year", "age")
_FLAG_WORDS = ("gift wrap", "express", "insurance", "alert email", "auto renew", "receipt copy", "dark mode",
               "extra cleaning", "helmet included", "public", "archived", "verified", "paid", "notify me", "fragile")
_ENUM_WORDS = ("mode", "tier", "colour scheme", "speed", "quality", "plan type", "format", "channel", "grade")
_ENUM_VALUES = ("basic", "premium", "gold", "silver", "fast", "slow", "standard", "deluxe", "small", "medium",
                "large", "draft", "final", "red", "green", "blue", "low", "high", "daily", "weekly", "yearly",
                "pdf", "csv", "online", "offline", "north", "south", "matte", "glossy", "eco", "turbo")

_SAY = ("{w} {s}", "{w}: {s}", "{w} {s}", "{w} = {s}", "{s} as the {w}", "the {w} is {s}", "{w} of {s}",
        "{w} set to {s}", "{w} {s}")
_LEADS = ("{V} the {n}", "Please {v} a {n}", "Can you {v} the {n}", "I need to {v} a {n}", "{v} {n}",
          "Could you {v} my {n}", "Time to {v} the {n}", "I'd like to {v} a {n}", "Go ahead and {v} the {n}",
          "{v} a {n} for me", "We have to {v} the {n}")
_JOINS = (" with ", ": ", " - ", ", ", " using ", ". ")
_DESCRIPTIONS = ("{Vs} a {n}.", "{V} the {n} given its {ws}.", "Use this to {v} a {n}.", "{V} {n}s by {ws}.",
                 "Tool to {v} a {n}.", "{Vs} the user's {n}; needs {ws}.", "Lets you {v} any {n}.",
                 "{V} a {n} and return a reference.", "{N} service: {v} one {n}.")
_PARAM_DESCRIPTIONS = ("The {w} of the {n}.", "{W}.", "{W} to use.", "Which {w}.", "The {n}'s {w}.", "{W} for the {n}.")
_ANSWERS = ("Done: {key}.", "All set, the {n} is {key}.", "The result is {key}.", "Here it is: {key}.",
            "Your {n}: {key}.", "It came back as {key}.", "Finished, reference {key}.")
_OUTCOMES = ("confirmed", "queued", "done", "scheduled", "pending review", "accepted", "on hold", "ready")


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _third_person(verb: str) -> str:
    if verb.endswith(("s", "sh", "ch", "x")):
        return verb + "es"
    if verb.endswith("y") and verb[-2:-1] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + "s"


def _word(rng: random.Random, words: tuple[str, ...], split: str) -> str:
    """A word from the split's side of the list, or now and then a made-up one."""
    return pseudo_word(rng).lower() if rng.random() < 0.25 else pick(rng, words, split)


def _value_param(rng: random.Random, role: str, noun: str, split: str, used: set[str]) -> tuple[Param, str]:
    """One parameter of a drawn type, and the text a question uses for its slot."""
    kind = rng.choices(("string", "integer", "number", "boolean", "enum"), weights=(30, 25, 15, 15, 15))[0]
    pool = {"string": _STRING_WORDS, "integer": _NUMBER_WORDS, "number": _NUMBER_WORDS,
            "boolean": _FLAG_WORDS, "enum": _ENUM_WORDS}[kind]
    word = _word(rng, pool, split)
    while word in used:
        word = _word(rng, pool, split)
    used.add(word)
    surfaces: dict[Any, tuple[str, ...]] = {}
    enum: tuple[str, ...] = ()
    if kind == "string":
        draw = rng.choice((person_name, city_name, code, lambda r, s: pseudo_word(r), phrase))
    elif kind == "integer":
        high = rng.choice((9, 99, 999, 99_999))
        draw = lambda r, s: integer(r, s, 1, high)
    elif kind == "number":
        draw = rng.choice((lambda r, s: decimal(r, s, 1, 9_999), lambda r, s: amount(r, s)))
    elif kind == "boolean":
        draw = lambda r, s: r.random() < 0.5
        yes, no = rng.choice(((f"with {word}", f"without {word}"), (f"{word} yes", f"{word} no"),
                              (f"{word} on", f"{word} off"), (f"{word}: true", f"{word}: false")))
        surfaces = {True: (yes,), False: (no,)}
    else:
        enum = tuple(rng.sample(_ENUM_VALUES, rng.randint(2, 4)))
        draw = lambda r, s: r.choice(enum)
    names = tuple(dict.fromkeys(param_name(rng, word, noun) for _ in range(3)))
    descriptions = tuple(f.format(w=word, W=_cap(word), n=noun) for f in _PARAM_DESCRIPTIONS)
    param = Param(role, names, kind, draw, descriptions, optional=False, enum=enum, surfaces=surfaces)
    said = "{" + role + "}" if kind == "boolean" else rng.choice(_SAY).format(w=word, s="{" + role + "}")
    return param, said


def invent(rng: random.Random, split: str) -> Intent:
    """A new intent: a verb and an object, one to three parameters (some optional), questions and results."""
    verb, noun = _word(rng, VERBS, split), _word(rng, OBJECTS, split)
    used: set[str] = set()
    drawn = [_value_param(rng, f"p{i}", noun, split, used) for i in range(rng.choice((1, 1, 2, 2, 2, 3)))]
    optional = {i for i in range(1, len(drawn)) if rng.random() < 0.25}
    params = tuple(Param(p.role, p.names, p.kind, p.draw, p.descriptions, i in optional, p.enum, p.surfaces)
                   for i, (p, _) in enumerate(drawn))
    words = " and ".join(p.names[0].replace("_", " ") for p in params if not p.optional) or "nothing"
    fmt = {"v": verb, "V": _cap(verb), "Vs": _cap(_third_person(verb)), "n": noun, "N": _cap(noun), "ws": words}
    descriptions = tuple(d.format(**fmt) for d in _DESCRIPTIONS)
    questions = []
    for index in range(8):  # the first names no optional parameter, so a tool that leaves them out fits it
        named = [said for i, (_, said) in enumerate(drawn) if i not in optional or (index and rng.random() < 0.5)]
        rng.shuffle(named)
        lead = rng.choice(_LEADS).format(**fmt)
        if len(drawn) == 1 and rng.random() < 0.3:  # the value alone: only the schema names its parameter
            named = ["{p0}"]
            question = f"{lead} {named[0]}"
        else:
            question = lead + rng.choice(_JOINS) + ", ".join(named)
        questions.append(_cap(question) + rng.choice((".", "?", "", " please.", "!")))
    outcome_kind = rng.random()

    def result(r: random.Random, values: dict[str, Any]) -> tuple[str, str]:
        key = code(r, "train") if outcome_kind < 0.5 else r.choice(_OUTCOMES)
        roll = r.random()
        if roll < 0.4:
            return f"{_cap(noun)} {verb}: {key}.", key
        if roll < 0.6:
            return key, key
        return json.dumps({"status": key, noun.replace(" ", "_"): str(next(iter(values.values()), ""))}), key

    answers = tuple(a.replace("{n}", noun) for a in _ANSWERS)
    return Intent(f"~{verb}-{noun}", f"{verb} a {noun}", (verb,), (noun.replace(" ", "_"),), descriptions, params,
                  tuple(dict.fromkeys(questions)), result, answers, invented=True)


def words() -> set[str]:
    """Every word an invented tool's object or parameter may be named with (for the unseen-tools check)."""
    lists = (OBJECTS, _STRING_WORDS, _NUMBER_WORDS, _FLAG_WORDS, _ENUM_WORDS, _ENUM_VALUES)
    return {w for items in lists for item in items for w in item.split()}


__all__ = ["OBJECTS", "VERBS", "invent", "words"]
