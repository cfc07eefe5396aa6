"""Checks that measure the library from outside: GPU checks, CPU validation, client cost, overhead, parser conformance.

Run as `python -m nanokit.lab.NAME`; they use only public names of nanokit and nanokit.bench.

    gpu_check/       nanokit's H200 command, memory planner and benchmark against the real engine on a GPU box
    validate.py      nanokit bench against `vllm bench serve` on one server, interleaved rounds
    client_cost.py   the benchmark client's own CPU per streamed token, against a local fake server
    overhead.py      what the live dashboard costs a run
    import_graph.py  the package's import graph, its cycles and upward imports
    app_memory.py    the app's resident memory (server tree, kernel, Voila) on the embedded model, PSS/USS/RSS
    vllm_log.py      the figures vLLM logs while starting, and the planner held against them (for gpu_check)
    sweep_svg.py     a sweep's throughput and TPOT curves as a standalone SVG (for gpu_check)
"""
