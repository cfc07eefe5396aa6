"""The Qwen3-Coder XML of one tool-call block, read by its structure rather than by the first tag seen.

    <tool_call>
    <function=NAME>
    <parameter=ARG>
    VALUE
    </parameter>
    </function>
    </tool_call>

A value is free text: code, HTML, or a message that mentions `</tool_call>`. A close marker therefore
only counts where the structure allows what follows it:

- `</parameter>` ends a value when whitespace and then `<parameter=`, `</function>`, `</tool_call>`
  or the end of the output follow;
- `</function>` (a model that forgot `</parameter>`) when `</tool_call>`, `<tool_call>`, `<function=`
  or the end follow; `</tool_call>` when `<tool_call>` or the end follow;
- a `<parameter=` at the start of a line also ends the value before it (vLLM's and SGLang's parsers
  accept a missing `</parameter>` this way).

vLLM 0.32's `qwen3_coder` parser ends a value at any `<parameter=` and a call at the first
`</function>`, so a value that quotes them is cut there (nanokit.lab.parser_conformance shows it).

Where the output stops (a length limit), a half-written close marker (`</parame`) is dropped from the
value, a call whose `<function=NAME>` header is unfinished is no call, and a call with a finished
header is kept with the arguments seen so far. A ChatML turn marker (`<|im_end|>`) ends the block
wherever it appears. `scan_block` decides nothing it cannot see: with `final=False` it stops at the
first marker whose meaning depends on text not yet received, so a streamed block is split exactly
like the whole text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

TOOL_START, TOOL_END = "<tool_call>", "</tool_call>"
FUNCTION_START, FUNCTION_END = "<function=", "</function>"
PARAMETER_START, PARAMETER_END = "<parameter=", "</parameter>"
TURN_MARKERS = ("<|im_end|>", "<|im_start|>", "<|endoftext|>")
_WHITESPACE = " \t\r\n"
_LONGEST = max(len(token) for token in (TOOL_END, PARAMETER_START, PARAMETER_END, FUNCTION_END, *TURN_MARKERS))


@dataclass
class ScannedCall:
    name: str
    arguments: dict[str, str] = field(default_factory=dict)


@dataclass
class ScannedBlock:
    """The calls read so far, and where the block ends (None: not yet, or never in this text)."""

    calls: list[ScannedCall]
    end: int | None = None


class _Undecided(Exception):
    """The text ends inside a marker or before what decides it; wait for more."""


class _Scanner:
    def __init__(self, text: str, *, final: bool, bare: bool, memo: dict[int, int]) -> None:
        self.text, self.final, self.bare, self.memo = text, final, bare, memo
        self.calls: list[ScannedCall] = []

    # small readers -------------------------------------------------------------------------------

    def skip_ws(self, at: int) -> int:
        while at < len(self.text) and self.text[at] in _WHITESPACE:
            at += 1
        return at

    def token_at(self, at: int, tokens: tuple[str, ...]) -> str | None:
        """The token of `tokens` starting at `at`; '' at the end of the text or inside a cut token."""
        for token in tokens:
            if self.text.startswith(token, at):
                return token
        rest = self.text[at:at + _LONGEST]
        if at + len(rest) == len(self.text) and (not rest or any(token.startswith(rest) for token in tokens)):
            if not self.final:
                raise _Undecided
            return ""
        return None

    def followed_by(self, at: int, tokens: tuple[str, ...]) -> bool:
        """Whether whitespace and then one of `tokens` (or the end) follow `at`."""
        return self.token_at(self.skip_ws(at), (*tokens, *TURN_MARKERS)) is not None

    def earliest(self, at: int, tokens: tuple[str, ...]) -> tuple[int, str] | None:
        """The first of `tokens` at or after `at`; text before it (stray words) is skipped."""
        start = self.skip_ws(at)
        for token in tokens:  # the usual case, markup right after whitespace: no search through the rest
            if self.text.startswith(token, start):
                return start, token
        hits = [(self.text.find(token, at), token) for token in tokens]
        hits = [hit for hit in hits if hit[0] >= 0]
        return min(hits) if hits else None

    # the grammar ---------------------------------------------------------------------------------

    def block(self) -> ScannedBlock:
        at = 0
        while True:
            hit = self.earliest(at, (FUNCTION_START, TOOL_END, TOOL_START, *TURN_MARKERS))
            if hit is None:
                if not self.final:
                    raise _Undecided
                return ScannedBlock(self.calls)
            at, token = hit
            if token == TOOL_END:
                return ScannedBlock(self.calls, at + len(TOOL_END))
            if token != FUNCTION_START:  # a new block or the end of the turn: this one ends here
                return ScannedBlock(self.calls, at)
            close, newline = self.text.find(">", at), self.text.find("\n", at)
            if newline >= 0 and (close < 0 or newline < close):  # a broken header is no call
                at += len(FUNCTION_START)
                continue
            if close < 0:  # the output stops inside the name: no call
                if not self.final:
                    raise _Undecided
                return ScannedBlock(self.calls)
            call = ScannedCall(self.text[at + len(FUNCTION_START):close].strip())
            self.calls.append(call)
            how, at = self.function_body(call, close + 1)
            if how == "end of text":
                return ScannedBlock(self.calls)
            if how == "end of block" or self.bare:
                return ScannedBlock(self.calls, at)

    def function_body(self, call: ScannedCall, at: int) -> tuple[str, int]:
        """Read parameters up to the end of the call: ("after function", where reading goes on),
        ("end of block", where the block ends) or ("end of text", -1)."""
        while True:
            hit = self.earliest(at, (PARAMETER_START, FUNCTION_END, TOOL_END, TOOL_START, *TURN_MARKERS))
            if hit is None:
                if not self.final:
                    raise _Undecided
                return "end of text", -1
            at, token = hit
            if token == FUNCTION_END:
                return "after function", at + len(FUNCTION_END)
            if token == TOOL_END:
                return "end of block", at + len(TOOL_END)
            if token != PARAMETER_START:
                return "end of block", at
            close = self.text.find(">", at)
            if close < 0:
                if not self.final:
                    raise _Undecided
                return "end of text", -1
            name = self.text[at + len(PARAMETER_START):close].strip()
            value, next_at = self.value(close + 1)
            if name:
                call.arguments[name] = value.removeprefix("\n").removesuffix("\n")
            if next_at is None:
                return "end of text", -1
            at = next_at

    def value(self, start: int) -> tuple[str, int | None]:
        """A parameter value from `start`: its text and where reading goes on (None: the text ended)."""
        at = self.memo.get(start, start)
        while True:
            at = self.text.find("<", at)
            if at < 0:
                if not self.final:
                    raise _Undecided
                return self.text[start:], None
            token = self.token_at(at, (PARAMETER_END, FUNCTION_END, TOOL_END, PARAMETER_START, *TURN_MARKERS))
            if token == "":  # the output stops inside a close marker: it is not part of the value
                return self.text[start:at], None
            if token == PARAMETER_END and self.followed_by(
                    at + len(token), (PARAMETER_START, FUNCTION_END, TOOL_END, TOOL_START, FUNCTION_START)):
                return self.text[start:at], at + len(token)
            if token == FUNCTION_END and self.followed_by(at + len(token), (TOOL_END, TOOL_START, FUNCTION_START)):
                return self.text[start:at], at
            if token == TOOL_END and self.followed_by(at + len(token), (TOOL_START,)):
                return self.text[start:at], at
            if token == PARAMETER_START and at > start and self.text[at - 1] == "\n":
                return self.text[start:at], at
            if token in TURN_MARKERS:
                return self.text[start:at], at
            at += 1
            self.memo[start] = at  # this "<" is decided to be text: the next scan starts after it


def scan_block(text: str, *, final: bool, bare: bool = False, memo: dict[int, int] | None = None) -> ScannedBlock:
    """Read the text after `<tool_call>` (or from a bare `<function=`, with `bare=True`).

    With `final=False` the text may still grow: the scan stops before the first marker whose meaning
    the next text decides, reporting the calls whose headers it has read so far. A stream
    passes the same `memo` for every scan of one growing block, so a long value is not read again
    from its start each time (a 20 KB HTML value fed 4 characters at a time: 20 s without, 0.15 s with).
    """
    scanner = _Scanner(text, final=final, bare=bare, memo=memo if memo is not None else {})
    try:
        return scanner.block()
    except _Undecided:
        return ScannedBlock(scanner.calls)
