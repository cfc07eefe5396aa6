"""Values the synthetic conversations are built from: names, cities, words, numbers, each drawn fresh.

A value belongs to the training or the evaluation side by a stable hash (`held_out`), so the held-out
evaluation asks for names, cities and numbers the model never copied in training. Most names and cities
are made up (syllables, random letters, multiword), so the model learns to copy whatever it is given
rather than recall a list; numbers have one to six digits and decimals, written as a user would.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable, Sequence
from typing import Literal, TypeVar

Split = Literal["train", "eval"]
T = TypeVar("T")

_SYLLABLES = ("ka", "lo", "mi", "ra", "ne", "to", "sa", "vi", "der", "lin", "mar", "zo", "bel", "tan", "ri",
              "co", "an", "el", "is", "or", "un", "ba", "fe", "gu", "ho", "ju", "pe", "qui", "wen", "dru", "sk",
              "ty", "ol", "am", "bre", "cha", "gor", "lys", "nor", "pax", "sel", "tor", "vel", "yu")
REAL_NAMES = ("Alice", "Bob", "Carlos", "Dana", "Emeka", "Fatima", "Grace", "Hiro", "Ines", "Jonas", "Kofi", "Lena",
              "Maya", "Nikhil", "Olga", "Pedro", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wei", "Ximena",
              "Yusuf", "Zoe", "Priya", "Liam", "Noah", "Emma", "Sofia", "Mateo", "Aisha", "Kenji", "Marta", "Omar",
              "Ravi", "Chloe", "Diego", "Elena", "Felix", "Hana", "Ivan", "Julia", "Sam", "Ada", "Leo", "Mia")
REAL_CITIES = ("Paris", "London", "Tokyo", "New York", "Berlin", "Madrid", "Rome", "Sydney", "Cairo", "Oslo", "Lima",
               "Toronto", "Mumbai", "Seoul", "Lisbon", "Vienna", "Prague", "Dublin", "Nairobi", "Santiago", "Bangkok",
               "Denver", "Chicago", "Boston", "Austin", "Zurich", "Helsinki", "Warsaw", "Athens", "Istanbul", "Dakar",
               "Hanoi", "Manila", "Quito", "Havana", "Perth", "Osaka", "San Francisco", "Buenos Aires", "Cape Town",
               "Mexico City", "Rio de Janeiro", "Kuala Lumpur", "Hong Kong", "Tel Aviv", "Los Angeles", "Abu Dhabi",
               "Reykjavik", "Montreal", "Marrakesh", "Kyoto", "Florence", "Seville", "Porto", "Krakow", "Budapest")
LANGUAGES = ("French", "Spanish", "German", "Italian", "Japanese", "Portuguese", "Dutch", "Swahili", "Korean",
             "Polish", "Turkish", "Greek", "Hindi", "Arabic", "Swedish", "Finnish", "Czech", "Vietnamese")
CURRENCIES = ("USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "INR", "BRL", "MXN", "SEK", "NOK", "ZAR", "KRW")
CONDITIONS = ("cloudy", "sunny", "light rain", "clear skies", "overcast", "windy", "snow showers", "foggy",
              "partly cloudy", "thunderstorms", "drizzle", "humid")
_PREFIXES = ("New ", "San ", "Port ", "Lake ", "Fort ", "St. ", "East ", "Upper ", "El ", "Mount ")
_SUFFIXES = (" City", "ville", "burg", " Bay", " Falls", "ton", " Springs", "stad", " Heights", "ford")


def held_out(value: object, share: int = 5) -> bool:
    """Whether a value belongs to the evaluation split (a stable 1-in-`share` hash bucket)."""
    return zlib.crc32(str(value).encode()) % share == 0


def on_side(rng: random.Random, split: Split, draw: Callable[[], T], share: int = 5, tries: int = 50) -> T:
    """Draw with `draw` until the value falls on `split`'s side of the hash partition."""
    value = draw()
    for _ in range(tries):
        if held_out(value, share) == (split == "eval"):
            return value
        value = draw()
    return value


def pick(rng: random.Random, values: Sequence[T], split: Split, share: int = 5) -> T:
    """A random value from the split's side of `values` (hash-partitioned); all of them if a side is empty."""
    side = [v for v in values if held_out(v, share) == (split == "eval")]
    return rng.choice(side or list(values))


def made_up_word(rng: random.Random, syllables: int) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(syllables)).capitalize()


def random_word(rng: random.Random, low: int = 3, high: int = 9) -> str:
    """Letters drawn at random (mostly alternating consonants and vowels): nothing to memorise."""
    vowels, consonants = "aeiouy", "bcdfghjklmnprstvwxz"
    if rng.random() < 0.15:
        return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(low, high))).capitalize()
    letters, consonant = [], rng.random() < 0.7
    for _ in range(rng.randint(low, high)):
        letters.append(rng.choice(consonants if consonant else vowels))
        consonant = consonant != (rng.random() < 0.85)
    return "".join(letters).capitalize()


def pseudo_word(rng: random.Random) -> str:
    return made_up_word(rng, rng.randint(2, 3)) if rng.random() < 0.5 else random_word(rng)


def person_name(rng: random.Random, split: Split) -> str:
    def draw() -> str:
        roll = rng.random()
        first = rng.choice(REAL_NAMES) if roll < 0.35 else pseudo_word(rng)
        return first + (" " + pseudo_word(rng) if rng.random() < 0.15 else "")
    return on_side(rng, split, draw)


def city_name(rng: random.Random, split: Split) -> str:
    def draw() -> str:
        roll = rng.random()
        if roll < 0.3:
            return rng.choice(REAL_CITIES)
        if roll < 0.5:
            return rng.choice(_PREFIXES) + pseudo_word(rng)
        if roll < 0.7:
            return pseudo_word(rng) + rng.choice(_SUFFIXES)
        if roll < 0.8:
            return pseudo_word(rng) + " " + pseudo_word(rng)
        return pseudo_word(rng)
    return on_side(rng, split, draw)


def integer(rng: random.Random, split: Split, low: int = 1, high: int = 999_999) -> int:
    """An integer with a uniformly drawn number of digits (1-6 by default), so long numbers are common."""
    def draw() -> int:
        digits = rng.randint(len(str(low)), len(str(high)))
        return max(low, min(high, rng.randint(10 ** (digits - 1), 10 ** digits - 1)))
    return on_side(rng, split, draw, share=4)


def decimal(rng: random.Random, split: Split, low: int = 1, high: int = 99_999, places: int = 2) -> float:
    """A number with one or two decimals whose str() is what a user types (no trailing zero)."""
    def draw() -> float:
        while True:
            text = f"{integer(rng, 'train', low, high)}.{rng.randint(1, 10 ** rng.randint(1, places) - 1)}"
            if str(float(text)) == text:
                return float(text)
    return on_side(rng, split, draw, share=4)


def amount(rng: random.Random, split: Split, low: int = 1, high: int = 9_999) -> int | float:
    """Money as users write it: mostly whole numbers, sometimes with cents."""
    return decimal(rng, split, low, high) if rng.random() < 0.3 else integer(rng, split, low, high)


def ticker(rng: random.Random, split: Split) -> str:
    return on_side(rng, split, lambda: "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(rng.randint(2, 5))))


def code(rng: random.Random, split: Split) -> str:
    """A flight-number or order-number-like code: letters then digits."""
    return on_side(rng, split, lambda: "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(2))
                   + str(rng.randint(1, 9999)))


def phrase(rng: random.Random, split: Split) -> str:
    """A short free-text value (a message, a reminder, a search query)."""
    words = ("buy milk", "call the dentist", "pick up the kids", "water the plants", "send the report",
             "book the flights", "pay the rent", "bring an umbrella", "renew my passport", "feed the cat",
             "running late", "see you at noon", "meeting moved to Friday", "happy birthday", "the keys are on the desk",
             "good morning", "thank you so much", "where is the station", "the train is delayed", "lunch at one")
    def draw() -> str:
        text = rng.choice(words)
        return text + " " + pseudo_word(rng) if rng.random() < 0.4 else text
    return on_side(rng, split, draw)


def clock_time(rng: random.Random, split: Split) -> str:
    def draw() -> str:
        hour = rng.randint(1, 12)
        return rng.choice((f"{hour}pm", f"{hour}:{rng.choice(('00', '15', '30', '45'))}", f"{hour} pm", f"{hour}am"))
    return on_side(rng, split, draw)


def expression(rng: random.Random, split: Split) -> str:
    def draw() -> str:
        ops = ("+", "-", "*", "/")
        a, b = integer(rng, "train", 1, 99_999), integer(rng, "train", 1, 9_999)
        shape = rng.random()
        if shape < 0.55:
            return f"{a} {rng.choice(ops)} {b}"
        c = integer(rng, "train", 1, 999)
        if shape < 0.75:
            return f"{a} {rng.choice(ops)} {b} {rng.choice(ops)} {c}"
        if shape < 0.9:
            return f"({a} {rng.choice(ops[:2])} {b}) {rng.choice(ops[2:])} {c}"
        return f"{decimal(rng, 'train', 1, 999)} {rng.choice(ops)} {b}"
    return on_side(rng, split, draw)
