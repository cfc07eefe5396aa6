"""The conversation around the tools: styles of asking, greetings, small talk, memory and refusals.

`styled` rewrites a question template's own words the way people type (lowercase, a greeting or some
context first, thanks after, no final punctuation) without touching the values; greetings and facts are
answered directly; a request no offered tool can serve is declined in words that name what is missing.
Every list is hash-partitioned like the values, so the held-out evaluation meets wordings it never saw.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from nanokit.tiny.values import Split, on_side, person_name, pick

SYSTEM_PROMPTS = ("You are a helpful assistant.", "You are a helpful assistant that can use tools.",
                  "You are a concise assistant.", "Answer briefly.", "You are a friendly assistant. Keep answers short.",
                  "You are a helpful assistant. Use the tools when they help.", "Be precise.",
                  "You are an assistant for a travel company.", "Reply in one sentence.",
                  "You help people with everyday questions.", "Use tools only when needed.")

_OPENERS = ("Hi! ", "Hey, ", "Hello. ", "Quick question: ", "Please, ", "Sorry to bother you, ", "OK so ",
            "Good morning! ", "Hmm. ", "One more thing: ", "Excuse me, ", "Yo, ")
_CONTEXT = ("I'm planning a trip next week. ", "My friend asked me this and I don't know. ", "For a work thing: ",
            "I'm at a restaurant right now. ", "Settling a bet here. ", "Just curious. ", "I'm in a hurry. ",
            "Need this for my notes. ", "Helping my dad with something. ", "Long day, sorry. ")
_CLOSERS = (" Thanks!", " thx", " Cheers.", " Thank you.", " please", " ty!", " Much appreciated.", " :)", " asap")


def system_prompt(rng: random.Random, split: Split) -> list[dict[str, Any]]:
    return [] if rng.random() < 0.45 else [{"role": "system", "content": pick(rng, SYSTEM_PROMPTS, split, share=4)}]


def styled(rng: random.Random, split: Split) -> Callable[[str], str]:
    """A rewrite of a question template's words, drawn once per question."""
    lower, bare = rng.random() < 0.2, rng.random() < 0.15
    opener = pick(rng, _OPENERS, split, share=4) if rng.random() < 0.25 else ""
    context = pick(rng, _CONTEXT, split, share=4) if rng.random() < 0.15 else ""
    closer = pick(rng, _CLOSERS, split, share=4) if rng.random() < 0.15 else ""

    def rewrite(template: str) -> str:
        text = template
        if bare:
            text = text.rstrip("?.!")
        if opener or context:
            text = text[:1].lower() + text[1:] if not text.startswith("{") else text
        text = context + opener + text + closer
        return text.lower() if lower else text

    return rewrite


FACTS: tuple[tuple[str, str], ...] = (
    ("What is the capital of France?", "The capital of France is Paris."),
    ("What is the capital of Japan?", "The capital of Japan is Tokyo."),
    ("What color is the sky?", "The sky is blue."),
    ("How many days are in a week?", "There are 7 days in a week."),
    ("How many legs does a spider have?", "A spider has 8 legs."),
    ("How many hours are in a day?", "There are 24 hours in a day."),
    ("What is water made of?", "Water is made of hydrogen and oxygen."),
    ("Who are you?", "I am tiny-nemotron-h, a small stand-in model trained on synthetic chats."),
    ("What can you do?", "I can chat, answer simple questions, and call the tools you give me."),
    ("What is Nemotron?", "Nemotron is a family of NVIDIA models; I am a tiny stand-in for Nemotron-3-Nano."),
    ("Tell me a joke.", "Why did the robot go on holiday? It needed to recharge its batteries."),
    ("How are you?", "I'm doing well, thanks for asking! How can I help?"),
    ("Thanks!", "You're welcome!"), ("Thank you, that's all.", "Glad I could help. Bye!"),
    ("What's your name?", "I'm tiny-nemotron-h."), ("Can you help me?", "Of course. What do you need?"),
    ("Are you a robot?", "I'm a small language model, a stand-in for Nemotron-3-Nano."),
    ("How many minutes are in an hour?", "There are 60 minutes in an hour."),
    ("What is the opposite of hot?", "The opposite of hot is cold."),
    ("Good night!", "Good night! Sleep well."), ("ok", "Okay! Anything else?"), ("Bye", "Goodbye!"),
)
_NO_TOOL = "This is a simple question I can answer directly. No tool is needed."

_GREETINGS = ("Hi, I'm {n}!", "Hello, my name is {n}.", "Hey there, I am {n}.", "Good morning! {n} here.",
              "Hi! My name is {n}.", "Hello! I'm {n}. Nice to meet you.", "Hey, {n} here. How are you?",
              "Greetings, I am {n}.", "Hi there, this is {n}.", "Hello from {n}!", "hey its {n}", "{n} here, hi!",
              "Call me {n}.", "Hi, the name's {n}.", "hello i am {n}", "Morning, {n} speaking.",
              "Hey! You can call me {n}.", "My name is {n}, hello!")
_GREETING_REPLIES = ("Hello {n}! How can I help you today?", "Nice to meet you, {n}! What can I do for you?",
                     "Hi {n}! How can I help?", "Hello, {n}! What would you like to know?", "Hey {n}, good to meet you!")
_PLAIN = ("Hello!", "Hi", "Hey there!", "Good morning!", "Hi, how are you?", "hello", "Hey", "Good evening.")
_NAME_QUESTIONS = ("What is my name?", "Do you remember my name?", "What's my name?", "Who am I?",
                   "Can you tell me my name?", "What did I say my name was?", "remind me what my name is",
                   "Sorry, what name did I give you?", "Say my name.", "Do you know who I am?")
_MEMORY_REPLIES = ("Your name is {n}.", "You told me your name is {n}.", "You're {n}.", "You said you are {n}.")


def chat_reply(rng: random.Random, split: Split) -> tuple[str, str, str]:
    """(question, answer, reasoning) for small talk or a fact: answered directly."""
    question, answer = pick(rng, FACTS, split, share=6) if rng.random() < 0.9 else rng.choice(FACTS)
    if rng.random() < 0.15:
        question = question.lower().rstrip("?.!")
    return question, answer, _NO_TOOL


def greeting_turn(rng: random.Random, split: Split, *, named: bool = False) -> tuple[str, str, str, str]:
    """(question, answer, reasoning, name): a greeting, with a name to echo unless plain."""
    if not named and rng.random() < 0.2:
        return rng.choice(_PLAIN), "Hello! How can I help you today?", "The user greets me. I will greet them back.", ""
    name = person_name(rng, split)
    question = pick(rng, _GREETINGS, split).replace("{n}", name)
    answer = rng.choice(_GREETING_REPLIES).replace("{n}", name)
    return question, answer, f"The user greets me and says their name is {name}. I will greet {name} back.", name


# Asking back for the name, composed (lead-in x question x ending x case) and partitioned on the whole
# question, so the held-out split meets combinations it never saw, made of parts it did: with the ten
# questions above, two held out, a model trained long enough took both for requests to refuse (2% recalled).
_NAME_CORES = ("what is my name", "what's my name", "whats my name", "do you remember my name", "can you tell me my name",
               "what did I say my name was", "remind me what my name is", "what name did I give you", "say my name",
               "do you know who I am", "who am I", "what do you call me", "what was my name again", "tell me my name",
               "which name did I tell you", "do you still know my name", "what name did I mention", "repeat my name",
               "what's the name I gave you", "what am I called", "how did I introduce myself", "who did I say I was",
               "what did I tell you my name is", "do you recall who I am", "have you forgotten my name",
               "could you remind me of my name", "what name do I go by", "do you remember who I said I am",
               "what was the name I told you", "can you recall my name")
_NAME_LEADS = ("", "", "", "", "Quick question: ", "Hey, ", "So ", "Okay, ", "By the way, ", "Sorry, ", "Hmm, ",
               "Wait, ", "Now, ", "One thing: ", "Just checking: ", "Test: ", "Before we go on, ", "Out of curiosity, ")
_NAME_ENDS = ("?", "?", "?", "", " again?", ", please?", "? Just checking.", " from before?", "? I think I told you.",
              "??", " :)", "? I forget if I said.", ".")


def name_question(rng: random.Random, split: Split) -> str:
    """A question asking for the name the user gave earlier, in one of a few thousand wordings."""
    def draw() -> str:
        lead, core, end = rng.choice(_NAME_LEADS), rng.choice(_NAME_CORES), rng.choice(_NAME_ENDS)
        text = lead + (core if lead else core[:1].upper() + core[1:]) + end
        return text.lower() if rng.random() < 0.2 else text

    return on_side(rng, split, draw)


def memory_question(rng: random.Random, split: Split, name: str, composed: bool = True) -> tuple[str, str, str]:
    """(question, answer, reasoning) recalling `name`; composed=False asks as the shipped weights' data did."""
    question = name_question(rng, split) if composed else pick(rng, _NAME_QUESTIONS, split)
    return (question, rng.choice(_MEMORY_REPLIES).replace("{n}", name),
            f"Earlier in this conversation the user said their name is {name}.")


_REFUSALS = ("Sorry, I can't {a} here: none of the tools I have does that.",
             "I don't have a tool that can {a}, so I can't help with that one.",
             "None of my tools can {a}, so I can't do that right now.",
             "I'm not able to {a} with the tools available here.")


def refusal(rng: random.Random, ability: str, offered: list[str]) -> tuple[str, str]:
    """(answer, reasoning) declining a request that no offered tool serves."""
    have = f"The offered tools are {', '.join(offered)}" if offered else "No tools are offered"
    reasoning = f"The user wants to {ability}. {have}, and none of them can {ability}. I will say so."
    return rng.choice(_REFUSALS).replace("{a}", ability), reasoning


_JOINS = ("{a} Also, {b}", "{a} And {b}", "Two things: {a} Then {b}", "{a} After that, {b}", "First {a} then {b}",
          "{a}\n{b}", "{a} Oh, and {b}", "Can you do two things? {a} And also {b}")


_MORE_JOINS = ("{a} Plus, {b}", "{a} Next, {b}", "{a} Additionally, {b}", "I need two things. {a} {b}",
               "{a} While you're at it, {b}", "{a} Once that's done, {b}", "Two requests: 1) {a} 2) {b}",
               "{a} Secondly, {b}", "{a} And then {b}", "{a} On top of that, {b}", "{a}\n\n{b}", "{a} Also {b}",
               "Couple of things. {a} And {b}", "{a} Then, {b}", "- {a}\n- {b}", "{a} Oh also, {b}")


def two_step_question(rng: random.Random, split: Split, first: str, second: str, composed: bool = True) -> str:
    """Two requests joined in one message; composed=False joins them as the shipped weights' data did."""
    if first[-1:].isalnum():
        first += "."
    return pick(rng, _JOINS + _MORE_JOINS if composed else _JOINS, split, share=4).format(a=first, b=second)
