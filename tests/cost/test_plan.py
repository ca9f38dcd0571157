"""The compiled step plan (perfsim.cost.plan) gives the reference path's numbers to 1e-9 relative:
every op priced afresh (perfsim.cost.step.*_reference) and perfsim.cost.memory.memory."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import perfsim
from perfsim.cost import plan as plan_module
from perfsim.cost import request
from perfsim.cost.graph import StepBatch
from perfsim.cost.memory import memory
from perfsim.cost.plan import PlanCache, step_plan
from perfsim.cost.step import evaluate_step, evaluate_step_reference, step_latency, step_latency_reference
from perfsim.decoding import Speculative
from perfsim.spec.deployment import Execution

MODELS = [
    "llama-3.1-8b",
    "nemotron-h-8b",
    "qwen3-30b-a3b",
    "gpt-oss-20b",
    "nemotron-flash-3b",
    "deepseek-v2-lite",
]
HARDWARE = ["h100-sxm", "a10g", "b200", "jetson-orin-nano-8gb", "cpu-generic"]
EXECUTIONS = [
    Execution(),
    Execution(cuda_graphs=False),
    Execution(tensor_parallel=2),
    Execution(
        cuda_graphs=False, host_per_kernel_s=2e-5, host_overhead_per_step_s=1e-3, host_per_seq_per_step_s=1e-5
    ),
]
REL = 1e-9


def _close(a, b) -> None:
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=REL, atol=0.0)


def _step(kind: str, batch: int, length: int, past: int, q: int) -> StepBatch:
    if kind == "decode":
        return StepBatch(decode_seqs=batch, decode_context=length, decode_tokens=q)
    if kind == "prefill":
        return StepBatch(prefill_seqs=batch, prefill_tokens=length, prefill_past=past)
    return StepBatch(
        decode_seqs=batch,
        decode_context=length,
        decode_tokens=q,
        prefill_seqs=1,
        prefill_tokens=min(length, 2048),
        prefill_past=past,
    )


def _execution(index: int, name: str) -> Execution:
    execution = EXECUTIONS[index]
    model = perfsim.load_model(name)
    if execution.tensor_parallel > 1 and any(
        getattr(op, "num_kv_heads", 2) % 2 for op in model.operators.values()
    ):
        return Execution()
    return execution


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(MODELS),
    hw=st.sampled_from(HARDWARE),
    kind=st.sampled_from(["decode", "prefill", "mixed"]),
    batch=st.integers(1, 300),
    length=st.integers(1, 20000),
    past=st.integers(0, 8000),
    q=st.integers(1, 6),
    ex=st.integers(0, len(EXECUTIONS) - 1),
)
def test_evaluate_step_equals_reference(name, hw, kind, batch, length, past, q, ex):
    model, profile = perfsim.load_model(name), perfsim.load_hardware(hw)
    execution = _execution(ex, name)
    step = _step(kind, batch, length, past, q)
    fast, ref = (
        evaluate_step(model, profile, step, execution),
        evaluate_step_reference(model, profile, step, execution),
    )
    for field in ("latency_s", "gpu_time_s", "launch_overhead_s", "flops", "bytes", "tokens", "kernels"):
        _close(getattr(fast, field), getattr(ref, field))
    pd.testing.assert_frame_equal(fast.breakdown, ref.breakdown, rtol=REL)


@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(MODELS),
    hw=st.sampled_from(HARDWARE),
    kind=st.sampled_from(["decode", "prefill"]),
    ex=st.integers(0, len(EXECUTIONS) - 1),
    seed=st.integers(0, 2**16),
)
def test_step_latency_on_arrays_equals_reference(name, hw, kind, ex, seed):
    rng = np.random.default_rng(seed)
    batch = rng.integers(1, 600, 64).astype(float)  # repeats and values across table blocks
    length = rng.integers(1, 40000, 64).astype(float)
    model, profile, execution = perfsim.load_model(name), perfsim.load_hardware(hw), _execution(ex, name)
    step = (
        StepBatch(decode_seqs=batch, decode_context=length)
        if kind == "decode"
        else StepBatch(prefill_seqs=batch, prefill_tokens=length)
    )
    _close(
        step_latency(model, profile, step, execution), step_latency_reference(model, profile, step, execution)
    )


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(MODELS),
    hw=st.sampled_from(HARDWARE),
    batch=st.integers(1, 2048),
    context=st.integers(1, 131072),
    chunk=st.sampled_from([None, 512, 2048, 8192]),
    tp=st.sampled_from([1, 2]),
    draft=st.booleans(),
)
def test_plan_memory_equals_memory(name, hw, batch, context, chunk, tp, draft):
    model, profile = perfsim.load_model(name), perfsim.load_hardware(hw)
    context = min(context, model.max_context_len)
    drafter = perfsim.load_model("qwen3-0.6b") if draft else None
    kwargs = dict(
        tensor_parallel=tp, prefill_chunk_tokens=chunk, draft=drafter, draft_shared_params=1e6 * draft
    )
    for _ in range(2):  # the second call is served from the plan's memos
        fast = step_plan(model, profile).memory(batch, context, **kwargs)
        assert fast == memory(model, profile, batch, context, **kwargs)


DECODINGS = [
    None,
    Speculative(k=3, acceptance=0.7, draft="eagle"),
    Speculative(k=4, acceptance=0.6, draft="qwen3-0.6b"),
]


def _generate_cases():
    rng = np.random.default_rng(7)
    cases = []
    for i in range(24):
        name = ["llama-3.1-8b", "qwen3-8b", "nemotron-h-8b", "gpt-oss-20b"][i % 4]
        decoding = (
            DECODINGS[i % 3] if name == "qwen3-8b" else DECODINGS[i % 2]
        )  # a draft model shares the vocab
        cases.append(
            (
                name,
                HARDWARE[i % 3],
                int(rng.integers(1, 257)),
                int(rng.integers(1, 4096)),
                int(rng.integers(1, 600)),
                decoding,
                [None, "vllm"][(i // 3) % 2],
            )
        )
    return cases


def _figures(r) -> dict:
    out = {k: v for k, v in r.to_dict().items() if not isinstance(v, str | bool)}
    out.update(prefill=r.prefill.to_dict(), decode=r.decode.to_dict())
    return out


def _assert_same(fast: dict, ref: dict) -> None:
    assert fast.keys() == ref.keys()
    for key, value in fast.items():
        if isinstance(value, dict):
            _assert_same(value, ref[key])
        else:
            _close(value, ref[key])


def test_generate_and_decode_step_equal_reference(monkeypatch):
    cases = _generate_cases()
    fast = [
        _figures(perfsim.generate(n, h, b, p, o, d, runtime=r, check_memory=False))
        for n, h, b, p, o, d, r in cases
    ]
    steps = [
        perfsim.decode_step(n, h, b, p, check_memory=False, runtime=r).to_dict()
        for n, h, b, p, _o, _d, r in cases
    ]
    with monkeypatch.context() as m:
        import perfsim.decoding.base as decoding_base
        import perfsim.decoding.speculative as speculative

        m.setattr(request, "evaluate_step", evaluate_step_reference)
        m.setattr(decoding_base, "step_latency", step_latency_reference)
        m.setattr(speculative, "step_latency", step_latency_reference)
        m.setattr(
            request,
            "_memory",
            lambda model, hw, batch, context, **kw: memory(model, hw, batch, context, **kw),
        )
        ref = [
            _figures(perfsim.generate(n, h, b, p, o, d, runtime=r, check_memory=False))
            for n, h, b, p, o, d, r in cases
        ]
        ref_steps = [
            perfsim.decode_step(n, h, b, p, check_memory=False, runtime=r).to_dict()
            for n, h, b, p, _o, _d, r in cases
        ]
    for a, b in zip(fast + steps, ref + ref_steps, strict=True):
        _assert_same(a, b)


def test_breakdown_is_built_only_when_asked(llama8b, h100):
    result = perfsim.generate(llama8b, h100, 4, 512, 64)
    assert callable(result.__dict__["_decode"])  # the mid-context step is not priced yet
    assert callable(result.prefill.__dict__["_breakdown"])
    step = result.decode
    assert callable(step.__dict__["_breakdown"])
    frame = step.breakdown
    assert isinstance(step.__dict__["_breakdown"], pd.DataFrame) and step.breakdown is frame
    assert frame["time_s"].sum() == pytest.approx(step.gpu_time_s, rel=1e-12)


def test_plans_are_cached_by_identity_and_rebuilt_for_new_specs(llama8b, h100):
    cache = PlanCache(size=2)
    first = cache.get(llama8b, h100, Execution())
    assert cache.get(llama8b, h100, Execution()) is first
    edited = llama8b.model_copy(update={"hidden_size": llama8b.hidden_size})
    assert cache.get(edited, h100, Execution()) is not first  # another object: its own plan
    assert cache.get(llama8b, h100, Execution(cuda_graphs=False)) is not first
    assert cache.get(llama8b, h100, Execution()) is not first  # size 2: the oldest was dropped


def test_edited_model_is_priced_afresh(llama8b, h100):
    """A spec derived from a cached one never reuses the cached numbers."""
    step = StepBatch(decode_seqs=8, decode_context=1024)
    base = step_latency(llama8b, h100, step)
    data = llama8b.model_dump()
    data["blocks"] = [{"repeat": 40, "ops": ["attn", "mlp"]}]
    deeper = perfsim.ModelSpec.model_validate(data)
    assert step_latency(deeper, h100, step) == pytest.approx(
        step_latency_reference(deeper, h100, step), rel=REL
    )
    assert step_latency(deeper, h100, step) > base
    assert plan_module.GEMM_BLOCK > 1


def test_bounded_gemm_tables_stay_exact(monkeypatch, llama8b, h100):
    """Past the block limit the tables start afresh between calls; numbers never change."""
    monkeypatch.setattr(plan_module, "MAX_GEMM_BLOCKS", 3)
    plan = plan_module.StepPlan(llama8b, h100, Execution())
    monkeypatch.setattr(plan_module, "step_plan", lambda *a: plan)
    for tokens in (100, 5000, 70000, 100, 333333, 5001):
        step = StepBatch(prefill_seqs=1, prefill_tokens=tokens)
        ops = [k.op for g in perfsim.cost.graph.build_step(llama8b, step, Execution()) for k in g.kernels]
        _close(plan.price_all(ops), [op.time(h100) for op in ops])
        assert plan._blocks_held <= 3 + len(ops)
    batch = np.arange(1.0, 3000.0, 7.0)
    _close(plan.op_time(perfsim.ops.Gemm(batch, 4096, 4096)), perfsim.ops.Gemm(batch, 4096, 4096).time(h100))


def test_mutable_or_unhashable_inputs_bypass_the_cache(llama8b, h100):
    class Mutable(perfsim.ModelSpec):
        model_config = {**perfsim.ModelSpec.model_config, "frozen": False}

    mutable = Mutable.model_validate(llama8b.model_dump())
    cache = PlanCache()
    assert cache.get(mutable, h100, Execution()) is not cache.get(mutable, h100, Execution())
    unhashable = Execution()
    object.__setattr__(unhashable, "runtime_id", ["not", "hashable"])
    assert cache.get(llama8b, h100, unhashable) is not cache.get(llama8b, h100, unhashable)
    assert cache.get(llama8b, h100, Execution()) is cache.get(llama8b, h100, Execution())


def test_lazy_results_pickle_and_copy_with_their_numbers(llama8b, h100):
    import copy
    import pickle

    result = perfsim.generate(llama8b, h100, 8, 300, 40)
    for clone in (pickle.loads(pickle.dumps(result)), copy.deepcopy(result)):
        assert clone.decode.to_dict() == result.decode.to_dict()
        pd.testing.assert_frame_equal(clone.decode.breakdown, result.decode.breakdown)
        pd.testing.assert_frame_equal(clone.prefill.breakdown, result.prefill.breakdown)
