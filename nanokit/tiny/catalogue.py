"""The intents the synthetic users ask tools for, with their words, parameters, questions and results.

The first three are the cookbook's example tools (tip, weather, calculator); `EXAMPLE_SCHEMAS` holds
their exact declarations as data (nanokit.tools declares them from Python functions; this package does
not import it) and `EXAMPLE_ROLES` which parameter plays which role. Tool results are synthesized here in
several shapes (a sentence, a number with a unit, short JSON) with the value the answer must restate.
"""

from __future__ import annotations

import json
import random
from typing import Any

from nanokit.tiny.intents import Intent, Param
from nanokit.tiny.values import (
    CONDITIONS,
    CURRENCIES,
    LANGUAGES,
    amount,
    city_name,
    clock_time,
    code,
    decimal,
    expression,
    integer,
    person_name,
    phrase,
    pseudo_word,
    ticker,
)


def _shape(rng: random.Random, sentence: str, key: str, fields: dict[str, Any]) -> tuple[str, str]:
    """The tool result as a sentence, the bare key value, or JSON; and the text the answer must contain."""
    roll = rng.random()
    if roll < 0.4:
        return sentence, key
    if roll < 0.65:
        return key, key
    first = next(iter(fields))
    return json.dumps(fields), str(fields[first])


def _tidy(value: float) -> int | float:
    return int(value) if value == int(value) else value


def _weather(rng, v):
    unit = v.get("unit") or rng.choice(("celsius", "celsius", "fahrenheit"))
    t = rng.choice((rng.randint(-15, 40), decimal(rng, "train", 1, 40, places=1)))
    cond = rng.choice(CONDITIONS)
    if rng.random() < 0.5:
        key = f"{t} degrees and {cond}"
        return (key if rng.random() < 0.5 else f"{key} in {v['city']}"), key
    key = f"{t} degrees {unit}"
    return _shape(rng, f"{key} in {v['city']}", key, {"temperature": t, "unit": unit, "conditions": cond})


def _tip(rng, v):
    tip = _tidy(round(float(v["bill"]) * v["percent"] / 100, 2))
    key = f"{tip}"
    return _shape(rng, f"The tip is {tip}.", key, {"tip": tip, "total": _tidy(round(float(v["bill"]) + tip, 2))})


def _calc(rng, v):
    value = rng.choice((integer(rng, "train", 1, 999_999), decimal(rng, "train", 1, 99_999)))
    return _shape(rng, f"The result is {value}.", str(value), {"result": value})


def _convert(rng, v):
    value = decimal(rng, "train", 1, 99_999)
    key = f"{value} {v['target']}"
    return _shape(rng, f"{v['amount']} {v['source']} is {key}", key, {"converted": value, "currency": v["target"]})


def _time(rng, v):
    key = rng.choice((f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}", f"{rng.randint(1, 12)}:{rng.randint(0, 59):02d} pm"))
    return _shape(rng, f"It is {key} in {v['city']}.", key, {"local_time": key, "city": v["city"]})


def _translate(rng, v):
    key = " ".join(pseudo_word(rng).lower() for _ in range(rng.randint(1, 4)))
    return _shape(rng, f"In {v['language']}: {key}", key, {"translation": key})


def _message(rng, v):
    key = code(rng, "train")
    return _shape(rng, f"Message sent to {v['recipient']}, id {key}.", key, {"message_id": key, "status": "sent"})


def _reminder(rng, v):
    key = f"{v['minutes']} minutes"
    return _shape(rng, f"Reminder set for {key} from now.", key, {"in": key, "text": v["text"]})


def _stock(rng, v):
    price = decimal(rng, "train", 1, 9_999)
    key = f"{price}"
    return _shape(rng, f"{v['symbol']} is trading at {price} USD.", key, {"price": price, "symbol": v["symbol"]})


def _booking(rng, v):
    key = code(rng, "train")
    return _shape(rng, f"Table for {v['people']} booked, confirmation {key}.", key, {"confirmation": key})


def _population(rng, v):
    key = f"{integer(rng, 'train', 1000, 999_999)}"
    return _shape(rng, f"{v['city']} has about {key} people.", key, {"population": int(key)})


def _flight(rng, v):
    key = rng.choice(("on time", "delayed by 40 minutes", "boarding", "cancelled", "landed", "delayed by 2 hours"))
    return _shape(rng, f"Flight {v['flight']} is {key}.", key, {"status": key, "flight": v["flight"]})


def _lights(rng, v):
    key = "on" if v["on"] else "off"
    return _shape(rng, f"The {v['room']} lights are now {key}.", key, {"state": key, "room": v["room"]})


def _distance(rng, v):
    key = f"{integer(rng, 'train', 1, 19_999)} km"
    return _shape(rng, f"It is {key} from {v['origin']} to {v['destination']}.", key, {"distance": key})


ROOMS = ("kitchen", "bedroom", "living room", "office", "garage", "hallway", "bathroom", "garden")

_CITY = ("The city name.", "Name of the city.", "City, e.g. Paris.", "The location to look up.", "Which city.",
         "A city name such as Lima.", "Town or city.")

INTENTS: tuple[Intent, ...] = (
    Intent(
        "tip", "work out a tip", ("calculate", "compute", "get", "work_out", "figure"), ("tip", "gratuity", "tip_amount", "tip"),
        ("Calculate the tip amount for a restaurant bill.", "Work out how much to tip on a bill.",
         "Returns the tip for a given bill total and percentage.", "Compute a gratuity from a bill and a tip rate.",
         "Figures out the tip to leave at a restaurant.", "Tip calculator: bill amount and percent in, tip out.",
         "Calculate a tip given the check amount and the percentage."),
        (Param("bill", ("bill_total", "bill", "amount", "total", "check_amount", "billAmount", "subtotal"), "number", amount,
               ("The total bill amount in dollars.", "Bill total.", "How much the bill is.", "Amount of the check.")),
         Param("percent", ("tip_percentage", "percent", "tip_percent", "rate", "percentage", "tipPct"), "integer",
               lambda r, s: integer(r, s, 1, 40), ("The tip percentage, e.g. 15 for 15%.", "Tip rate in percent.",
                                                   "Percentage to tip.", "How many percent."))),
        ("What is a {percent}% tip on a ${bill} bill?", "How much should I tip on ${bill} at {percent}%?",
         "Calculate a {percent}% tip for a bill of ${bill}.", "My bill is ${bill}. What is a {percent}% tip?",
         "What's the tip on a {bill} dollar bill at {percent} percent?", "tip for ${bill} at {percent}%",
         "I paid {bill} dollars for dinner, how much is a {percent}% tip?", "{percent}% tip on ${bill}?",
         "We spent ${bill} at the restaurant; what's {percent}% of that as a tip?", "${bill} bill, {percent} percent tip?",
         "Dinner came to ${bill}. If I leave {percent}%, how much is that?", "what do i tip on {bill} at {percent} percent",
         "Could you work out a {percent} percent gratuity on a {bill} check?", "{percent} percent of {bill} as a tip"),
        _tip, ("A {percent}% tip on ${bill} is {key}.", "The tip comes to {key}.", "You should tip {key}.",
               "That's a tip of {key}.", "Leave {key} as the tip.")),
    Intent(
        "weather", "check the weather", ("get", "fetch", "lookup", "check", "current"), ("weather", "current_weather",
                                                                                          "temperature", "forecast", "weather_now"),
        ("Get the current temperature in a city.", "Look up the current weather for a city.",
         "Returns today's weather conditions and temperature for a location.", "Fetch the weather forecast for a place.",
         "Tells you how warm it is in a given city right now.", "Current weather report for any city.",
         "Get the weather (temperature and conditions) at a location."),
        (Param("city", ("city", "location", "city_name", "place", "town", "cityName"), "string", city_name, _CITY),
         Param("unit", ("unit", "units", "temperature_unit", "scale", "tempUnit"), "enum",
               lambda r, s: r.choice(("celsius", "fahrenheit")), ("The temperature unit.", "celsius or fahrenheit.",
                                                                  "Unit for the temperature."),
               optional=True, enum=("celsius", "fahrenheit"))),
        ("What's the weather like in {city}?", "How warm is it in {city} right now?", "What is the temperature in {city}?",
         "Is it cold in {city} today?", "weather in {city}?", "Tell me the current temperature in {city}.",
         "Can you check the weather in {city}?", "I'm going to {city} tomorrow. What's the weather there?",
         "{city} weather", "What is the temperature in {city} in {unit}?", "How hot is it in {city}? Answer in {unit}.",
         "Give me the weather in {city} in {unit}.", "{city} temperature in {unit}, please", "any idea how warm {city} is?",
         "Heading out in {city} soon, what's it like outside?", "In {unit}, how warm is {city}?",
         "Do I need a jacket in {city} today?"),
        _weather, ("It is {key} in {city}.", "Right now in {city} it's {key}.", "The weather in {city}: {key}.",
                   "Currently {key}.", "{city} is at {key} right now.")),
    Intent(
        "calc", "do arithmetic", ("calculate", "evaluate", "compute", "eval", "solve"), ("calculator", "expression", "math",
                                                                                          "arithmetic", "sum"),
        ("Evaluate an arithmetic expression with + - * / // % ** and parentheses.", "Compute the value of a math expression.",
         "A calculator: evaluates arithmetic like (3 + 4) * 2.", "Solve a numeric expression and return the number.",
         "Does arithmetic on an expression string.", "Evaluate a mathematical formula."),
        (Param("expression", ("expression", "expr", "formula", "input", "query", "mathExpression"), "string", expression,
               ("The arithmetic expression, e.g. (3 + 4) * 2.", "Expression to evaluate.", "A math expression.")),),
        ("What is {expression}?", "Calculate {expression}.", "Compute {expression} for me.", "Please evaluate {expression}.",
         "Can you work out {expression}?", "What does {expression} come to?", "{expression} = ?", "{expression}?",
         "quick one: {expression}", "how much is {expression}", "I need the value of {expression}, thanks.",
         "Solve {expression}.", "My homework says {expression}. What's the answer?"),
        _calc, ("{expression} = {key}.", "The answer is {key}.", "It comes to {key}.", "The result is {key}.")),
    Intent(
        "convert", "convert currencies", ("convert", "exchange", "get"), ("currency", "money", "fx_rate", "exchange"),
        ("Convert an amount of money from one currency to another.", "Currency converter using today's rates.",
         "Exchange an amount between two currencies.", "Returns the value of an amount in another currency."),
        (Param("amount", ("amount", "value", "sum", "qty", "money"), "number", amount, ("Amount to convert.", "How much money.")),
         Param("source", ("from_currency", "source", "from", "base", "fromCurrency"), "string",
               lambda r, s: r.choice(CURRENCIES), ("Currency code to convert from, e.g. USD.", "Source currency.")),
         Param("target", ("to_currency", "target", "to", "quote", "toCurrency"), "string",
               lambda r, s: r.choice(CURRENCIES), ("Currency code to convert to.", "Target currency."))),
        ("Convert {amount} {source} to {target}.", "How much is {amount} {source} in {target}?",
         "What's {amount} {source} in {target} today?", "{amount} {source} to {target}", "I have {amount} {source}; how many {target} is that?",
         "exchange {amount} {source} into {target} please", "Could you convert {amount} {source} into {target} for me?"),
        _convert, ("{amount} {source} is {key}.", "That comes to {key}.", "You'd get {key}.")),
    Intent(
        "time", "tell the local time", ("get", "current", "lookup"), ("time", "local_time", "clock", "time_in_city"),
        ("Get the current local time in a city.", "Returns what time it is right now at a location.",
         "Look up the local time for a city.", "Tells the time in any city of the world."),
        (Param("city", ("city", "location", "place", "timezone_city", "where"), "string", city_name, _CITY),),
        ("What time is it in {city}?", "Current time in {city}?", "what's the time in {city} right now",
         "Is it late in {city}? What time is it there?", "Tell me the local time in {city}.", "{city} time please"),
        _time, ("It's {key} in {city}.", "The local time in {city} is {key}.", "Right now it is {key} there.")),
    Intent(
        "translate", "translate text", ("translate", "get"), ("translation", "text", "translate"),
        ("Translate text into another language.", "Returns a translation of a phrase into the target language.",
         "Translate a sentence to a given language."),
        (Param("text", ("text", "phrase", "sentence", "source_text", "input"), "string", phrase, ("Text to translate.",)),
         Param("language", ("target_language", "language", "lang", "to", "targetLang"), "string",
               lambda r, s: r.choice(LANGUAGES), ("Language to translate into.", "Target language, e.g. French."))),
        ("Translate \"{text}\" into {language}.", "How do you say \"{text}\" in {language}?",
         "Can you translate '{text}' to {language}?", "{language} for \"{text}\"?", "translate {text} to {language}"),
        _translate, ("In {language} that is \"{key}\".", "The translation is: {key}.", "\"{text}\" is \"{key}\".")),
    Intent(
        "message", "send messages", ("send", "post", "deliver"), ("message", "text", "sms", "chat_message"),
        ("Send a text message to a contact.", "Deliver a short message to someone.", "Sends a chat message to a person."),
        (Param("recipient", ("recipient", "to", "contact", "name", "person"), "string", person_name, ("Who gets the message.",)),
         Param("text", ("message", "text", "body", "content"), "string", phrase, ("The message text.",))),
        ("Send {recipient} a message saying \"{text}\".", "Text {recipient}: {text}", "Tell {recipient} \"{text}\".",
         "Please message {recipient} that {text}.", "Can you send \"{text}\" to {recipient}?"),
        _message, ("Done, your message to {recipient} was sent (id {key}).", "Sent! The message id is {key}.")),
    Intent(
        "reminder", "set reminders", ("set", "create", "add", "schedule"), ("reminder", "alarm", "timer_note"),
        ("Set a reminder that fires after a number of minutes.", "Creates a reminder with a note and a delay.",
         "Schedule a reminder for later."),
        (Param("text", ("text", "note", "message", "what", "label"), "string", phrase, ("What to remind about.",)),
         Param("minutes", ("minutes", "delay_minutes", "in_minutes", "after", "delayMin"), "integer",
               lambda r, s: integer(r, s, 1, 9999), ("Minutes from now.", "Delay in minutes."))),
        ("Remind me to {text} in {minutes} minutes.", "Set a reminder in {minutes} minutes: {text}.",
         "In {minutes} minutes, remind me to {text}.", "can you remind me to {text} in {minutes} min",
         "I need a reminder to {text}, {minutes} minutes from now."),
        _reminder, ("Okay, I'll remind you in {key}.", "Reminder set: {key} from now.")),
    Intent(
        "stock", "look up stock prices", ("get", "fetch", "lookup", "quote"), ("stock_price", "share_price", "quote", "ticker"),
        ("Get the latest stock price for a ticker symbol.", "Returns the current share price of a listed company.",
         "Look up a stock quote by its symbol."),
        (Param("symbol", ("symbol", "ticker", "stock", "code", "tickerSymbol"), "string", ticker, ("The ticker symbol.",)),),
        ("What's the price of {symbol}?", "How is {symbol} trading today?", "Stock price for {symbol}, please.",
         "Give me a quote for {symbol}.", "{symbol} share price?", "how much is one share of {symbol} right now"),
        _stock, ("{symbol} is at {key}.", "One share of {symbol} costs {key}.", "The latest price is {key}.")),
    Intent(
        "booking", "book restaurant tables", ("book", "reserve", "make"), ("table", "reservation", "restaurant_booking"),
        ("Book a table at a restaurant.", "Reserve a restaurant table for a party at a given time.",
         "Makes a dinner reservation."),
        (Param("restaurant", ("restaurant", "venue", "place", "restaurant_name"), "string",
               lambda r, s: pseudo_word(r) + r.choice(("", " Bistro", " Grill", "'s", " Kitchen")), ("Name of the restaurant.",)),
         Param("people", ("people", "party_size", "guests", "seats", "partySize"), "integer",
               lambda r, s: integer(r, s, 1, 40), ("How many people.",)),
         Param("time", ("time", "at", "when", "slot"), "string", clock_time, ("Time of the booking.",), optional=True)),
        ("Book a table for {people} at {restaurant}.", "Reserve {restaurant} for {people} people at {time}.",
         "Can you get us a table at {restaurant} for {people} at {time}?", "table for {people} at {restaurant} please",
         "I'd like to book {restaurant} for {people} people."),
        _booking, ("Booked! Your confirmation is {key}.", "You have a table at {restaurant}; confirmation {key}.")),
    Intent(
        "population", "look up populations", ("get", "lookup", "fetch"), ("population", "city_population", "census"),
        ("Get the population of a city.", "Returns how many people live in a place.", "Look up census figures for a city."),
        (Param("city", ("city", "place", "location", "name"), "string", city_name, _CITY),),
        ("How many people live in {city}?", "What's the population of {city}?", "population of {city}?",
         "Is {city} big? How many inhabitants does it have?"),
        _population, ("{city} has about {key} people.", "The population is {key}.")),
    Intent(
        "flight", "check flight status", ("get", "check", "track"), ("flight_status", "flight", "flight_info"),
        ("Check the status of a flight by its number.", "Returns whether a flight is on time.", "Track a flight."),
        (Param("flight", ("flight_number", "flight", "number", "code", "flightNo"), "string", code, ("The flight number.",)),),
        ("Is flight {flight} on time?", "What's the status of {flight}?", "track flight {flight}",
         "My mum is on {flight}, has it landed?", "Check flight {flight} for me."),
        _flight, ("Flight {flight} is {key}.", "It's {key}.")),
    Intent(
        "lights", "switch lights", ("set", "switch", "toggle", "control"), ("lights", "light", "lamp", "room_lights"),
        ("Turn the lights in a room on or off.", "Switch a room's lights.", "Control smart lights by room."),
        (Param("room", ("room", "area", "location", "zone"), "string", lambda r, s: r.choice(ROOMS), ("Which room.",)),
         Param("on", ("on", "turn_on", "state", "enabled", "power"), "boolean", lambda r, s: r.random() < 0.5,
               ("True to switch on, False to switch off.",), surfaces={True: ("on",), False: ("off",)})),
        ("Turn {on} the lights in the {room}.", "Switch the {room} lights {on}.", "lights {on} in the {room} please",
         "Can you turn the {room} lights {on}?", "Please switch {on} the {room} light."),
        _lights, ("The {room} lights are {key} now.", "Done, the lights are {key}.")),
    Intent(
        "distance", "measure distances", ("get", "compute", "measure"), ("distance", "route_distance", "travel_distance"),
        ("Get the distance between two cities.", "Returns how far apart two places are.", "Measure the travel distance from A to B."),
        (Param("origin", ("origin", "from_city", "start", "source", "fromCity"), "string", city_name, ("Starting city.",)),
         Param("destination", ("destination", "to_city", "end", "target", "toCity"), "string", city_name, ("Destination city.",))),
        ("How far is it from {origin} to {destination}?", "Distance between {origin} and {destination}?",
         "how many km from {origin} to {destination}", "I'm driving from {origin} to {destination}. How far is that?"),
        _distance, ("It's {key} from {origin} to {destination}.", "The distance is {key}.")),
)
BY_KEY = {intent.key: intent for intent in INTENTS}

# The cookbook's example tools exactly as nanokit.tools declares them (checked by a test against it).
EXAMPLE_SCHEMAS: dict[str, dict[str, Any]] = {
    "calculate_tip": {"type": "function", "function": {
        "name": "calculate_tip", "description": "Calculate the tip amount for a restaurant bill.",
        "parameters": {"type": "object", "properties": {
            "bill_total": {"type": "integer", "description": "The total bill amount in dollars."},
            "tip_percentage": {"type": "integer", "description": "The tip percentage, e.g. 15 for 15%."}},
            "required": ["bill_total", "tip_percentage"]}}},
    "get_weather": {"type": "function", "function": {
        "name": "get_weather", "description": "Get the current temperature in a city.",
        "parameters": {"type": "object", "properties": {
            "city": {"type": "string", "description": "The city name, e.g. Paris."},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "description": "The temperature unit."}},
            "required": ["city"]}}},
    "calculator": {"type": "function", "function": {
        "name": "calculator", "description": "Evaluate an arithmetic expression with + - * / // % ** and parentheses.",
        "parameters": {"type": "object", "properties": {
            "expression": {"type": "string", "description": "The arithmetic expression, e.g. (3 + 4) * 2."}},
            "required": ["expression"]}}},
}
EXAMPLE_ROLES: dict[str, tuple[str, dict[str, str]]] = {
    "calculate_tip": ("tip", {"bill": "bill_total", "percent": "tip_percentage"}),
    "get_weather": ("weather", {"city": "city", "unit": "unit"}),
    "calculator": ("calc", {"expression": "expression"}),
}
