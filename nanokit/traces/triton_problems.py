"""A small PyTorch -> Triton problem set in the KernelBench style, written here.

Each problem shows a PyTorch function and asks for a Triton kernel plus a Python wrapper with the same
signature; its verifier runs the wrapper in the sandbox (runtime "triton": Triton's interpreter on CPU,
see code_check.py) on generated inputs against the PyTorch reference. `REFERENCE_SOLUTIONS` holds one
correct Triton answer per problem, so the verifier itself is tested on a known-good kernel.
"""

from __future__ import annotations

from nanokit.traces.problems import Problem

_INSTRUCTIONS = (
    "Write a Triton kernel (import triton, import triton.language as tl, decorate it with @triton.jit) and a "
    "Python function `{entry}` with the same arguments as the PyTorch function below, which allocates the "
    "output, launches the kernel and returns the output. It must give the same result as the PyTorch code. "
    "Answer with one ```python block.\n\n```python\nimport torch\n\n{torch_code}```"
)

_INPUTS = '''
import torch

def make_inputs(count, seed):
    generator = torch.Generator().manual_seed(seed)
    shapes = [{shapes}]
    cases = []
    for index in range(count):
        shape = shapes[index % len(shapes)]
        cases.append(tuple(torch.randn(*shape, generator=generator) for _ in range({arity})))
    return cases
'''

_TORCH = {
    "vector_add": ("def vector_add(x, y):\n    return x + y\n", "(1000,), (4096,), (37,)", 2),
    "relu": ("def relu(x):\n    return torch.relu(x)\n", "(1000,), (3, 257), (64,)", 1),
    "scale_shift": ("def scale_shift(x, a, b):\n    return x * a + b\n", "(513,), (1024,)", 3),
    "row_softmax": ("def row_softmax(x):\n    return torch.softmax(x, dim=-1)\n", "(4, 100), (7, 64), (1, 300)", 1),
    "row_sum": ("def row_sum(x):\n    return x.sum(dim=-1)\n", "(5, 128), (3, 77)", 1),
}

REFERENCE_SOLUTIONS = {
    "vector_add": '''
import torch, triton, triton.language as tl

@triton.jit
def _add(x, y, out, n, BLOCK: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < n
    tl.store(out + offsets, tl.load(x + offsets, mask=mask) + tl.load(y + offsets, mask=mask), mask=mask)

def vector_add(x, y):
    out = torch.empty_like(x)
    n = x.numel()
    _add[(triton.cdiv(n, 256),)](x, y, out, n, BLOCK=256)
    return out
''',
    "row_softmax": '''
import torch, triton, triton.language as tl

@triton.jit
def _softmax(x, out, cols, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    offsets = tl.arange(0, BLOCK)
    mask = offsets < cols
    values = tl.load(x + row * cols + offsets, mask=mask, other=-float("inf"))
    values = tl.exp(values - tl.max(values, axis=0))
    tl.store(out + row * cols + offsets, values / tl.sum(values, axis=0), mask=mask)

def row_softmax(x):
    x = x.contiguous()
    rows, cols = x.shape
    out = torch.empty_like(x)
    _softmax[(rows,)](x, out, cols, BLOCK=triton.next_power_of_2(cols))
    return out
''',
}


def triton_problems(*, cases: int = 3, seed: int = 0) -> list[Problem]:
    """The problem set: one `Problem` per PyTorch function, verified by the Triton runtime."""
    problems = []
    for name, (torch_code, shapes, arity) in _TORCH.items():
        reference = (f"import torch\n\n{torch_code.replace(f'def {name}(', 'def reference(')}"
                     + _INPUTS.format(shapes=shapes, arity=arity))
        problems.append(Problem(
            id=f"triton/{name}",
            messages=({"role": "user", "content": _INSTRUCTIONS.format(entry=name, torch_code=torch_code)},),
            verifier={"kind": "code", "runtime": "triton", "entry": name, "reference": reference,
                      "cases": cases, "seed": seed, "rtol": 1e-4, "atol": 1e-5},
            meta={"set": "triton"}))
    return problems
