"""`simulate_serving`: a workload against one or more replicas behind a router.

The environment is created per call and passed down; nothing global, nothing written at exit.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import simpy

from perfsim.cost.runtime import DEFAULT_RUNTIME, RuntimeLike
from perfsim.decoding import DecodingStrategy, make_decoding
from perfsim.errors import PerfsimInputError
from perfsim.io.load import load_hardware, load_model
from perfsim.registry import Registry
from perfsim.sim.config import EngineConfig
from perfsim.sim.costs import IterationCosts
from perfsim.sim.engine import Replica
from perfsim.sim.frontend import Frontend
from perfsim.sim.kvcache import KVCache
from perfsim.sim.metrics import Recorder, ServingResult
from perfsim.sim.requests import Request
from perfsim.sim.runtime_config import resolve_serving
from perfsim.sim.workloads import Workload
from perfsim.spec.deployment import Execution
from perfsim.units import format_bytes


class Router:
    """Base class of request routers across replicas (an extension point of `perfsim.sim`).

    Registered with `@register_router("name")` (the name `simulate_serving(router=...)` and the
    CLI use; it is also written to `cls.name`). One instance per simulation, created with no
    arguments, so a router may keep state (e.g. a round-robin cursor).

    Must implement:
        pick(replicas, request) -> Replica
            Called once per arriving request; return one of `replicas`. Read replica state
            (e.g. `Replica.outstanding`), never change it.
    """

    name = "router"

    def pick(self, replicas: list[Replica], request: Request) -> Replica:
        raise NotImplementedError


_ROUTERS: Registry[type[Router]] = Registry("router", "name")
register_router = _ROUTERS.register
registered_routers = _ROUTERS.as_dict


@register_router("round_robin")
class RoundRobin(Router):
    def __init__(self) -> None:
        self._next = 0

    def pick(self, replicas, request):
        replica = replicas[self._next % len(replicas)]
        self._next += 1
        return replica


@register_router("least_outstanding")
class LeastOutstanding(Router):
    """The replica with the fewest unfinished requests (ties: lowest index)."""

    def pick(self, replicas, request):
        return min(replicas, key=lambda r: r.outstanding)


def simulate_serving(model, hw, workload: Workload, engine: EngineConfig | None = None,
                     decoding: str | DecodingStrategy | None = None, *, seed: int = 0,
                     execution: Execution | None = None, replicas: int = 1,
                     router: str = "round_robin", trace: bool = False,
                     progress: Callable[[int, int], None] | None = None,
                     runtime: RuntimeLike = DEFAULT_RUNTIME) -> ServingResult:
    """Simulate serving `workload` and return per-request metrics and their summary.

    `execution` sets tensor parallelism and launch mode per replica; `progress(done, total)` is
    called as requests complete (about every 1 % of them). Same seed, same result. `runtime` (id,
    path or RuntimeProfile; None: runtime-free) supplies kernels, launch mode and host costs and the
    engine's scheduler defaults; fields `engine` and `execution` set to non-default values win
    (perfsim.cost.runtime).
    """
    model, hw = load_model(model), load_hardware(hw)
    strategy = make_decoding(decoding)
    hw, execution, engine = resolve_serving(runtime, hw, execution, engine)
    if not isinstance(workload, Workload):
        raise PerfsimInputError(f"workload must be a perfsim workload (Poisson, Gamma, ClosedLoop, "
                                f"Trace), got {type(workload).__name__}.")
    if not isinstance(replicas, int) or replicas < 1:
        raise PerfsimInputError(f"replicas must be a positive integer (got {replicas!r}).")
    picker = _ROUTERS.create(router)
    config = engine.resolved(model, hw)
    assert (config.max_num_seqs is not None and config.max_batched_tokens is not None
            and config.max_model_len is not None)  # filled in by resolved()
    costs = IterationCosts(model, hw, strategy, execution, max_seqs=config.max_num_seqs,
                           max_tokens=config.max_batched_tokens, max_context=config.max_model_len)
    draft, draft_shared_params = strategy.resident_draft(model)
    pools = [KVCache(model, hw, block_size=config.block_size,
                     gpu_memory_utilization=config.gpu_memory_utilization,
                     kv_cache_free_fraction=config.kv_cache_free_fraction,
                     max_batched_tokens=config.max_batched_tokens, max_seqs=config.max_num_seqs,
                     tensor_parallel=execution.tensor_parallel, draft=draft,
                     draft_shared_params=draft_shared_params)
             for _ in range(replicas)]
    _check_fits(model.id, hw.id, workload, config, pools[0], costs.query_tokens)

    env = simpy.Environment()
    recorder = Recorder(workload.num_requests, trace=trace,
                        warmup=getattr(workload, "warmup_requests", 0))  # clients.ClosedLoop
    rng = np.random.default_rng(seed)
    children = rng.spawn(replicas + 1)  # the workload's stream does not depend on replicas
    fleet = [Replica(env, i, config, pools[i], costs, strategy, recorder, children[i + 1],
                     offline=workload.offline) for i in range(replicas)]
    api_server_s = 0.0 if workload.offline or config.api_server_s is None else config.api_server_s
    frontends = [Frontend(env, replica, api_server_s) for replica in fleet]
    total, step = workload.num_requests, max(workload.num_requests // 100, 1)

    def submit(request: Request) -> None:
        if progress is not None:
            user_finish = request.on_finish

            def on_finish(r: Request) -> None:
                if recorder.completed % step == 0 or recorder.completed == total:
                    progress(recorder.completed, total)
                if user_finish is not None:
                    user_finish(r)

            request.on_finish = on_finish
        frontends[picker.pick(fleet, request).index].submit(request)

    workload.start(env, submit, children[0])
    env.run()
    if recorder.completed != total:
        raise AssertionError(f"{total - recorder.completed} requests never completed")
    meta = {"model": model.id, "hardware": hw.id, "workload": workload.describe(),
            "decoding": strategy.describe(), "replicas": replicas, "router": router,
            "tensor_parallel": execution.tensor_parallel, "expert_parallel": execution.expert_parallel,
            "max_num_seqs": config.max_num_seqs,
            "max_batched_tokens": config.max_batched_tokens, "api_server_s": api_server_s,
            "kv_blocks": pools[0].total_blocks,
            "kv_pool_bytes": pools[0].pool_bytes, "block_size": config.block_size, "seed": seed}
    if execution.runtime_id is not None:
        meta["runtime"] = execution.runtime_id
    return recorder.result(meta)


def _check_fits(model_id: str, hw_id: str, workload: Workload, config: EngineConfig, kv: KVCache,
                query_tokens: int) -> None:
    assert config.max_model_len is not None and config.max_batched_tokens is not None  # resolved
    _, total = workload.max_lengths()
    if total > config.max_model_len:
        raise PerfsimInputError(
            f"workload: a request can reach {total} prompt + output tokens, above max_model_len "
            f"{config.max_model_len} of {model_id}; shorten the lengths or raise engine max_model_len.")
    if config.whole_prompts and total > config.max_batched_tokens:
        raise PerfsimInputError(
            f"engine: with whole-prompt prefills (scheduler {config.scheduler!r}, chunked_prefill="
            f"{config.chunked_prefill}) max_batched_tokens ({config.max_batched_tokens}) must cover the "
            f"longest prompt plus output that may be recomputed after preemption ({total}).")
    if config.max_batched_tokens < query_tokens:
        raise PerfsimInputError(
            f"engine: max_batched_tokens ({config.max_batched_tokens}) is below the {query_tokens} query "
            f"tokens one decoding sequence needs per forward with this decoding strategy.")
    need = kv.sequence_blocks(total + query_tokens)
    if need > kv.total_blocks:
        raise PerfsimInputError(
            f"{model_id} on {hw_id}: one request of {total} tokens needs {need} KV blocks but the pool "
            f"has {kv.total_blocks} ({format_bytes(kv.pool_bytes)}); shorten requests or add tensor "
            f"parallelism.")
