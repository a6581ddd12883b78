"""Where vLLM's engine core runs its model threads on a CPU machine."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator


@contextlib.contextmanager
def engine_threads_bound(*, enabled: bool = True) -> Iterator[None]:
    """While vLLM spawns its engine core on a CPU, binds OpenMP's threads to every core but the last, as
    vLLM's own CPU server binds its worker (`VLLM_CPU_OMP_THREADS_BIND=auto`): a model thread that stays
    on its core keeps its caches, and the last core is left to the HTTP server. Only the spawned engine
    core sees it; an operator's own `OMP_PLACES` wins. `enabled=False` (a GPU machine) leaves all as is."""
    cores = sorted(os.sched_getaffinity(0))
    if not enabled or len(cores) < 2 or "OMP_PLACES" in os.environ:
        yield
        return
    bound = {"OMP_PLACES": "{" + ",".join(map(str, cores[:-1])) + "}", "OMP_PROC_BIND": "true"}
    saved = {name: os.environ.get(name) for name in bound}
    os.environ.update(bound)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
