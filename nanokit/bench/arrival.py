"""When each request is sent: a Poisson or gamma process at a request rate, or all at once.

Same schedule as `vllm bench serve` (`get_request` in vllm/benchmarks/serve.py): gaps drawn from a gamma
distribution with shape `burstiness` and mean 1/rate (burstiness 1 is Poisson; below 1 burstier, above 1
more even), then rescaled so the last request goes out at n/rate seconds.
"""

from __future__ import annotations

import math
import random


def arrival_offsets(n: int, rate: float, burstiness: float = 1.0, *, seed: int = 0) -> list[float]:
    """Seconds after the start at which each of `n` requests is sent; all zero for an infinite rate."""
    if burstiness <= 0:
        raise ValueError(f"burstiness must be positive, got {burstiness}.")
    if rate <= 0:
        raise ValueError(f"The request rate must be positive (or inf), got {rate}.")
    if math.isinf(rate):
        return [0.0] * n
    rng = random.Random(seed)
    offsets: list[float] = []
    total = 0.0
    for _ in range(n):
        gap = 1.0 / rate if math.isinf(burstiness) else rng.gammavariate(burstiness, 1.0 / (rate * burstiness))
        total += gap
        offsets.append(total)
    if offsets and offsets[-1] > 0:
        scale = (n / rate) / offsets[-1]
        offsets = [t * scale for t in offsets]
    return offsets
