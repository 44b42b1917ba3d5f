"""Stage 6: the studies a user runs, from one run to a sweep.

- ``run``: one run: simulate, analyse, render, store (the Python API).
- ``compare``: several scenarios over the same seeds and window.
- ``grid``, ``sensitivity``, ``sweep``: parameter sweeps and their analysis.
- ``decomposition``: the reruns without the assumed group differences.
- ``resources``: estimates of memory, disk and time, and refusals.
- ``defaults``: the seeds and run limit a user gets without asking.
- ``rerun``, ``environment``: a stored run reproduced, and what it ran on.
- ``explain``: a stored run replayed with tracing: decision trails and their pages.
- ``flips``: explanations acted on in a replay (the audit's C-203/22 check).
- ``warm``: the kernels compiled once, ahead of a user's first run.
- ``validation``, ``feedback_validation``: published models reproduced.
"""
