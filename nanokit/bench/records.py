"""One record per benchmark request: what happened, measured on the client, never an exception.

The fields follow `vllm bench serve`'s `RequestFuncOutput` (vllm/benchmarks/lib/endpoint_request_func.py) so the
metrics computed from them mean the same thing, plus the two times a reasoning model needs apart: the first
reasoning chunk and the first answer chunk.

All times are seconds. `start_time` is on the `time.perf_counter` clock of the process that sent the request;
the other times are offsets from it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class RequestRecord:
    """The outcome of one streamed request.

    ttft: time to the first streamed chunk that carries a choice (vLLM's definition, reasoning or answer alike).
    ttfr / ttfa: time to the first chunk with reasoning text / with answer text; None when none came.
    itl: every gap between consecutive chunks, in order.
    latency: time from sending to the last chunk that carried a token (vLLM's end-to-end latency).
    output_tokens: the server's usage count when it sent one, else the number of chunks.
    """

    success: bool
    error: str = ""
    start_time: float = 0.0
    ttft: float = 0.0
    ttfr: float | None = None
    ttfa: float | None = None
    itl: tuple[float, ...] = ()
    latency: float = 0.0
    prompt_tokens: int = 0
    output_tokens: int = 0
    client_queue_time: float = 0.0

    @property
    def end_time(self) -> float:
        return self.start_time + self.latency

    def token_times(self) -> list[float]:
        """Absolute times (same clock as start_time) at which each chunk arrived."""
        if not self.success:
            return []
        t = self.start_time + self.ttft
        times = [t]
        for gap in self.itl:
            t += gap
            times.append(t)
        return times


def failed_record(error: str, *, start_time: float = 0.0, prompt_tokens: int = 0) -> RequestRecord:
    """A record for a request that produced no token; `error` is one line saying why."""
    return RequestRecord(success=False, error=error, start_time=start_time, prompt_tokens=prompt_tokens)
