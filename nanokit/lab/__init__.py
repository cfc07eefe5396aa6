"""Checks that measure the library from outside: GPU checks, CPU validation, client cost, overhead, parser conformance.

Run as `python -m nanokit.lab.NAME`; they use only public names of nanokit and nanokit.bench.
"""
