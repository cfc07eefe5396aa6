"""The synthetic world the embedded model is trained on: names, cities, facts and phrasings.

Names and cities are partly made up from syllables, so the model learns to copy whatever name it is
given rather than memorise a list. A held-out share of values and phrasings is reserved for evaluation
(`split="eval"`), so the evaluation measures copying and protocol, not recall of training examples.
"""

from __future__ import annotations

import random
import re
import zlib
from typing import Literal

Split = Literal["train", "eval"]

_SYLLABLES = ("ka", "lo", "mi", "ra", "ne", "to", "sa", "vi", "der", "lin", "mar", "zo", "bel", "tan",
              "ri", "co", "an", "el", "is", "or", "un", "ba", "fe", "gu", "ho", "ju", "pe", "qui", "wen")
REAL_NAMES = ("Alice", "Bob", "Carlos", "Dana", "Emeka", "Fatima", "Grace", "Hiro", "Ines", "Jonas", "Kofi",
              "Lena", "Maya", "Nikhil", "Olga", "Pedro", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera",
              "Wei", "Ximena", "Yusuf", "Zoe", "Priya", "Liam", "Noah", "Emma", "Sofia", "Mateo", "Aisha",
              "Kenji", "Marta", "Omar", "Ravi", "Chloe", "Diego", "Elena", "Felix", "Hana", "Ivan", "Julia")
REAL_CITIES = ("Paris", "London", "Tokyo", "New York", "Berlin", "Madrid", "Rome", "Sydney", "Cairo", "Oslo",
               "Lima", "Toronto", "Mumbai", "Seoul", "Lisbon", "Vienna", "Prague", "Dublin", "Nairobi",
               "Santiago", "Bangkok", "Denver", "Chicago", "Boston", "Austin", "Zurich", "Helsinki", "Warsaw",
               "Athens", "Istanbul", "Dakar", "Hanoi", "Manila", "Quito", "Havana", "Perth", "Osaka")

# Facts the synthetic world defines; the model answers them directly, without a tool.
FACTS: tuple[tuple[str, str], ...] = (
    ("What is the capital of France?", "The capital of France is Paris."),
    ("What is the capital of Japan?", "The capital of Japan is Tokyo."),
    ("What is the capital of Italy?", "The capital of Italy is Rome."),
    ("What is the capital of Spain?", "The capital of Spain is Madrid."),
    ("What is the capital of Germany?", "The capital of Germany is Berlin."),
    ("What is the capital of Egypt?", "The capital of Egypt is Cairo."),
    ("What is the capital of Peru?", "The capital of Peru is Lima."),
    ("What is the capital of Norway?", "The capital of Norway is Oslo."),
    ("What color is the sky?", "The sky is blue."),
    ("What color is grass?", "Grass is green."),
    ("How many days are in a week?", "There are 7 days in a week."),
    ("How many legs does a spider have?", "A spider has 8 legs."),
    ("How many hours are in a day?", "There are 24 hours in a day."),
    ("What is water made of?", "Water is made of hydrogen and oxygen."),
    ("Who are you?", "I am tiny-nemotron-h, a small stand-in model trained on synthetic chats."),
    ("What can you do?", "I can chat, answer simple questions, and call tools like get_weather, calculate_tip and calculator."),
    ("What is Nemotron?", "Nemotron is a family of NVIDIA models; I am a tiny stand-in for Nemotron-3-Nano."),
    ("Tell me a joke.", "Why did the robot go on holiday? It needed to recharge its batteries."),
)


# The proper nouns of the world's facts ("France", "Paris", "NVIDIA"...): most are one token each, as a
# held-out real city such as "Tokyo" is. Training also uses them as city names so that the model learns to
# copy a whole-word token it knows from elsewhere, not only names spelt in pieces.
LEXICON: tuple[str, ...] = tuple(sorted({word for pair in FACTS for text in pair
                                         for word in re.findall(r"(?<=[a-z] )[A-Z][A-Za-z]+", text)}))


def held_out(value: object, share: int = 5) -> bool:
    """Whether a value belongs to the evaluation split (a stable 1-in-`share` hash bucket)."""
    return zlib.crc32(str(value).encode()) % share == 0


def pick(rng: random.Random, values, split: Split):
    """A random value from the split's side of `values` (hash-partitioned)."""
    side = [v for v in values if held_out(v) == (split == "eval")]
    return rng.choice(side)


def made_up_word(rng: random.Random, syllables: int) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(syllables)).capitalize()


def random_word(rng: random.Random) -> str:
    """Letters drawn at random: nothing to memorise, so the model has to copy them."""
    vowels, consonants = "aeiouy", "bcdfghjklmnprstvwxz"
    letters, consonant = [], rng.random() < 0.7
    for _ in range(rng.randint(3, 9)):
        letters.append(rng.choice(consonants if consonant else vowels))
        consonant = consonant != (rng.random() < 0.85)  # mostly alternate, sometimes two in a row
    if rng.random() < 0.2:
        letters = [rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 8))]
    return "".join(letters).capitalize()


def person_name(rng: random.Random, split: Split) -> str:
    while True:
        roll = rng.random()
        name = (pick(rng, REAL_NAMES, split) if roll < 0.35 else
                made_up_word(rng, rng.randint(2, 3)) if roll < 0.55 else random_word(rng))
        if held_out(name) == (split == "eval"):
            return name


def city_name(rng: random.Random, split: Split) -> str:
    while True:
        # Training only (so the evaluation's draws stay as they were): now and then a lexicon word.
        if split == "train" and rng.random() < 0.1:
            city = rng.choice(LEXICON)
            if not held_out(city):
                return city
            continue
        roll = rng.random()
        if roll < 0.35:
            city = pick(rng, REAL_CITIES, split)
        elif roll < 0.55:
            city = made_up_word(rng, rng.randint(2, 3)) + rng.choice(("", "", " City", "ville", "burg", " Bay"))
        else:
            city = random_word(rng) + rng.choice(("", "", "", " City", " " + random_word(rng)))
        if held_out(city) == (split == "eval"):
            return city


def number(rng: random.Random, low: int, high: int, split: Split) -> int:
    while True:
        value = rng.randint(low, high)
        if held_out(value, share=4) == (split == "eval"):
            return value


def phrasing(rng: random.Random, templates: tuple[str, ...], split: Split) -> str:
    """Training sees all but every fifth template; evaluation sees every template (its values are new)."""
    if split == "eval":
        return rng.choice(templates)
    return rng.choice([t for i, t in enumerate(templates) if i % 5 != 4] or list(templates))
