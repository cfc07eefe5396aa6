"""Runs inside the sandbox (copied there as nanokit_harness.py): calls a reference or a candidate on inputs.

    python nanokit_harness.py reference CONFIG   imports reference.py, makes inputs, prints inputs and outputs
    python nanokit_harness.py candidate CONFIG   imports candidate.py, reads inputs.json, prints outputs

The last line starting with RESULT_MARK carries the JSON. Values cross as JSON only (tensors as dtype,
shape and flat data), so the parent never unpickles anything the sandbox wrote.
"""

import importlib.util
import json
import math
import sys
import traceback

RESULT_MARK = "NANOKIT-RESULT "


def encode(value):
    if hasattr(value, "detach") and hasattr(value, "dtype"):  # a torch tensor
        flat = value.detach().cpu().reshape(-1).tolist()
        return {"__tensor__": {"dtype": str(value.dtype).removeprefix("torch."), "shape": list(value.shape),
                               "data": [encode(x) for x in flat]}}
    if hasattr(value, "tolist") and hasattr(value, "shape"):  # a numpy array
        return {"__tensor__": {"dtype": str(value.dtype), "shape": list(value.shape),
                               "data": [encode(x) for x in value.reshape(-1).tolist()]}}
    if isinstance(value, float) and not math.isfinite(value):
        return {"__float__": repr(value)}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return {"__repr__": repr(value)[:200]}


def decode(value):
    if isinstance(value, dict) and "__tensor__" in value:
        import torch

        spec = value["__tensor__"]
        data = [decode(x) for x in spec["data"]]
        return torch.tensor(data, dtype=getattr(torch, spec["dtype"])).reshape(spec["shape"])
    if isinstance(value, dict) and "__float__" in value:
        return float(value["__float__"])
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        return {k: decode(v) for k, v in value.items()}
    return value


def load(name):
    spec = importlib.util.spec_from_file_location(name, f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    mode = sys.argv[1]
    with open(sys.argv[2]) as handle:
        config = json.load(handle)
    sys.path[:0] = config.get("paths", [])
    if mode == "reference":
        module = load("reference")
        inputs = [tuple(args) for args in module.make_inputs(config["cases"], config["seed"])]
        outputs = [getattr(module, config["reference_entry"])(*args) for args in inputs]
        result = {"inputs": encode(inputs), "outputs": encode(outputs)}
    else:
        module = load("candidate")
        function = getattr(module, config["entry"], None)
        if function is None:
            print(f"candidate.py defines no function named {config['entry']}", file=sys.stderr)
            sys.exit(3)
        outputs = []
        with open("inputs.json") as handle:
            cases = decode(json.load(handle))
        for args in cases:
            try:
                outputs.append({"value": encode(function(*args))})
            except Exception as exc:  # noqa: BLE001 -- one case failing is a verdict, not a crash
                outputs.append({"error": f"{type(exc).__name__}: {exc}"[:300]})
                traceback.print_exc()
        result = {"outputs": outputs}
    sys.stdout.flush()
    print("\n" + RESULT_MARK + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
