"""The scalar fast path (step tables, remembered deployments and catalogue lookups, lazy memory
report) gives the reference path's numbers to 1e-9 relative: every kernel priced afresh
(perfsim.cost.step.*_reference), every deployment resolved afresh, memory() itself."""

import contextlib

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import perfsim
from perfsim.cost import chunked, request, resolved, tables
from perfsim.cost import plan as plan_module
from perfsim.cost import step as step_module
from perfsim.cost.graph import StepBatch
from perfsim.cost.memory import memory
from perfsim.cost.plan import step_plan
from perfsim.cost.step import evaluate_step, evaluate_step_reference, step_latency, step_latency_reference
from perfsim.decoding import BlockDiffusion, Speculative
from perfsim.errors import PerfsimInputError
from perfsim.spec.deployment import Execution

REL = 1e-9
MODELS = [
    "llama-3.1-8b",
    "nemotron-h-8b",
    "qwen3-30b-a3b",
    "gpt-oss-20b",
    "deepseek-v2-lite",
    "nemotron-flash-3b",
    "qwen3-8b",
]
HARDWARE = ["h100-sxm", "b200", "a10g", "cpu-generic", "jetson-orin-nano-8gb"]
RUNTIMES = [None, "vllm", "sglang"]
DECODINGS = [
    None,
    Speculative(k=3, acceptance=0.7, draft="eagle"),
    Speculative(k=2, acceptance=0.6, draft="qwen3-0.6b"),
    BlockDiffusion(tokens_per_step=2.0),
]


def _close(a, b) -> None:
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=REL, atol=0.0)


@contextlib.contextmanager
def _reference(monkeypatch):
    """Within: no tables, no remembered deployments, every op priced afresh, memory() itself."""
    import perfsim.decoding.base as decoding_base
    import perfsim.decoding.slots as slots
    import perfsim.decoding.speculative as speculative

    with monkeypatch.context() as m:
        m.setattr(tables.StepTables, "scalar", lambda self, s: None)
        m.setattr(tables.StepTables, "decode_contexts", lambda self, s: None)
        for module in (request, chunked):
            m.setattr(module, "evaluate_step", evaluate_step_reference)
        for module in (decoding_base, slots, speculative):
            m.setattr(module, "step_latency", step_latency_reference)
        m.setattr(
            request,
            "deployment",
            lambda runtime, hw, execution=None: resolved._resolve(
                perfsim.cost.runtime.load_runtime_like(runtime), hw, execution
            ),
        )
        m.setattr(
            request,
            "_memory",
            lambda model, hw, batch, context, **kw: memory(model, hw, batch, context, **kw),
        )
        yield


def _fill_at_once(monkeypatch) -> None:
    """Tables filled on first ask: the path under test."""
    monkeypatch.setattr(tables, "FILL_AFTER", 1)
    monkeypatch.setattr(tables, "RENT_SHARE", 0.0)


def _figures(result) -> dict:
    out = {k: v for k, v in result.to_dict().items() if not isinstance(v, str | bool)}
    out.update(
        prefill=result.prefill.to_dict(),
        decode=result.decode.to_dict(),
        memory_total=result.memory.total_bytes,
        max_batch=result.memory.max_batch,
        assumed=result.memory.assumed,
    )
    return out


def _assert_same(fast, ref) -> None:
    if isinstance(fast, dict):
        assert fast.keys() == ref.keys()
        for key in fast:
            _assert_same(fast[key], ref[key])
    elif fast is None or isinstance(fast, str):
        assert fast == ref
    else:
        _close(fast, ref)


def _outcome(call):
    """The call's figures, or the sentence it refused with (both paths must agree on either)."""
    try:
        return call()
    except PerfsimInputError as exc:
        return str(exc)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(MODELS),
    hw=st.sampled_from(HARDWARE),
    runtime=st.sampled_from(RUNTIMES),
    decoding=st.sampled_from(DECODINGS),
    batch=st.integers(1, 300),
    prompt=st.integers(1, 12000),
    output=st.integers(1, 400),
    check=st.booleans(),
)
def test_generate_equals_reference(monkeypatch, name, hw, runtime, decoding, batch, prompt, output, check):
    if isinstance(decoding, Speculative) and decoding.draft != "eagle" and name != "qwen3-8b":
        decoding = None  # a draft model shares its target's vocabulary
    _fill_at_once(monkeypatch)  # tabulate at once: the path under test

    def run():
        result = perfsim.generate(
            name, hw, batch, prompt, output, decoding, runtime=runtime, check_memory=check
        )
        return _figures(result)

    fast, again = _outcome(run), _outcome(run)  # the second from warm tables and caches
    with _reference(monkeypatch):
        ref = _outcome(run)
    assert isinstance(fast, str) == isinstance(ref, str)
    if isinstance(ref, str):
        assert fast == ref == again
        return
    _assert_same(fast, ref)
    _assert_same(again, ref)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(MODELS),
    hw=st.sampled_from(HARDWARE),
    runtime=st.sampled_from(RUNTIMES),
    batch=st.integers(1, 600),
    context=st.integers(1, 40000),
    q=st.integers(1, 9),
    kind=st.sampled_from(["decode", "prefill", "bidirectional", "decode_step", "prefill_call"]),
)
def test_steps_equal_reference(monkeypatch, name, hw, runtime, batch, context, q, kind):
    _fill_at_once(monkeypatch)
    model, profile = perfsim.load_model(name), perfsim.load_hardware(hw)
    try:
        deployed = resolved.deployment(runtime, profile)
    except PerfsimInputError:
        return
    device, execution = deployed.hw, deployed.execution
    if kind in ("decode_step", "prefill_call"):
        call = perfsim.decode_step if kind == "decode_step" else perfsim.prefill
        context = min(context, model.max_context_len - 2)

        def run():
            return call(model, profile, batch, context, runtime=runtime, check_memory=False).to_dict()

        fast = _outcome(run)
        with _reference(monkeypatch):
            _assert_same(fast, _outcome(run))
        return
    step = (
        StepBatch(decode_seqs=batch, decode_context=context, decode_tokens=q)
        if kind == "decode"
        else StepBatch(
            prefill_seqs=batch, prefill_tokens=context, decode_tokens=q, prefill_causal=kind == "prefill"
        )
    )
    fast = evaluate_step(model, device, step, execution)
    ref = evaluate_step_reference(model, device, step, execution)
    for field in ("latency_s", "gpu_time_s", "launch_overhead_s", "flops", "bytes", "tokens", "kernels"):
        _close(getattr(fast, field), getattr(ref, field))
    pd.testing.assert_frame_equal(fast.breakdown, ref.breakdown, rtol=REL)
    _close(
        step_latency(model, device, step, execution), step_latency_reference(model, device, step, execution)
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(MODELS),
    hw=st.sampled_from(HARDWARE),
    runtime=st.sampled_from(RUNTIMES),
    batch=st.integers(1, 300),
    start=st.integers(0, 20000),
    n=st.integers(1, 700),
    shuffled=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_decode_context_runs_equal_reference(monkeypatch, name, hw, runtime, batch, start, n, shuffled, seed):
    """A request's decode iterations (one batch, a run of contexts; or any integer contexts)."""
    _fill_at_once(monkeypatch)
    model, profile = perfsim.load_model(name), perfsim.load_hardware(hw)
    try:
        deployed = resolved.deployment(runtime, profile)
    except PerfsimInputError:
        return
    contexts = np.arange(start, start + n, dtype=float)
    if shuffled:
        contexts = np.random.default_rng(seed).permutation(contexts)[: max(1, n // 2)] * 3
    step = StepBatch(decode_seqs=batch, decode_context=contexts)
    fast = step_latency(model, deployed.hw, step, deployed.execution)
    _close(fast, step_latency_reference(model, deployed.hw, step, deployed.execution))


def test_tiles_are_rented_then_bought(monkeypatch, llama8b, h100):
    """The first tile of a kind after FILL_AFTER asks; later ones once the direct pricings
    charged to them reach RENT_SHARE of what a fill cost."""
    monkeypatch.setattr(tables, "FILL_AFTER", 2)
    monkeypatch.setattr(tables, "RENT_SHARE", 0.5)
    plan = plan_module.StepPlan(llama8b, h100, Execution())
    step = StepBatch(decode_seqs=7, decode_context=3000)
    assert plan.tables.scalar(step) is None  # asked once: priced directly
    assert plan.tables.scalar(step) is not None  # asked twice: filled, its cost measured
    plan.tables._fill_s["c"] = 1.0  # a fill of this kind costs one second
    other = StepBatch(decode_seqs=7, decode_context=9000)
    assert plan.tables.scalar(other) is None
    plan.tables.charge(0.3)
    assert plan.tables.scalar(other) is None
    plan.tables.charge(0.3)  # 0.6 s charged >= RENT_SHARE x 1 s
    assert plan.tables.scalar(other) is not None


def test_tables_stay_bounded_and_exact(monkeypatch, llama8b, h100):
    _fill_at_once(monkeypatch)
    monkeypatch.setattr(tables, "MAX_TILE_BYTES", 4 * 4 * 16 * 256 * 8)
    plan = plan_module.StepPlan(llama8b, h100, Execution())
    monkeypatch.setattr(step_module, "_plan", lambda *a: plan)
    rng = np.random.default_rng(0)
    for b, c in zip(rng.integers(1, 2000, 40).tolist(), rng.integers(1, 90000, 40).tolist(), strict=True):
        step = StepBatch(decode_seqs=b, decode_context=c)
        fast = evaluate_step(llama8b, h100, step)
        _close(fast.latency_s, evaluate_step_reference(llama8b, h100, step).latency_s)
        assert plan.tables._bytes_held <= tables.MAX_TILE_BYTES
    assert plan.tables._tiles


def test_eager_launch_on_a_gpu_is_not_tabulated(llama8b, h100):
    plan = step_plan(llama8b, h100, Execution(cuda_graphs=False))
    assert not plan.tables.usable
    assert step_plan(
        llama8b, perfsim.load_hardware("cpu-generic"), Execution(cuda_graphs=False)
    ).tables.usable


def test_mixed_and_prefix_steps_are_priced_directly(llama8b, h100):
    plan = step_plan(llama8b, h100, Execution())
    for step in (
        StepBatch(decode_seqs=4, decode_context=100, prefill_seqs=1, prefill_tokens=50),
        StepBatch(prefill_seqs=1, prefill_tokens=512, prefill_past=1024),
        StepBatch(decode_seqs=2.5, decode_context=10),
    ):
        for _ in range(5):
            assert plan.tables.scalar(step) is None


def test_memory_is_computed_when_first_asked(llama8b, h100):
    lazy = perfsim.generate(llama8b, h100, 4, 100, 10, check_memory=False)
    assert callable(lazy.__dict__["_memory"])
    eager = perfsim.generate(llama8b, h100, 4, 100, 10)
    assert lazy.memory == eager.memory
    assert not callable(lazy.__dict__["_memory"])


def test_deployments_are_remembered_by_identity(h100):
    first = resolved.deployment("vllm", h100)
    assert resolved.deployment("vllm", h100) is first
    assert resolved.deployment("vllm", h100, Execution(tensor_parallel=2)) is not first
    assert resolved.deployment(None, h100).chunk is None
    profile = perfsim.load_runtime("vllm")
    edited = profile.model_copy(update={"id": "vllm-edited"})
    assert resolved.deployment(edited, h100).execution.runtime_id == "vllm-edited"
    assert resolved.deployment(profile, h100) is first


def test_catalogue_rereads_a_changed_file(tmp_path, monkeypatch):
    from perfsim.io.catalog import find

    path = tmp_path / "mine.yaml"
    path.write_text("base: vllm\nhost:\n  per_step:\n    value_s: 0.001\n")
    assert perfsim.load_runtime(str(path)).host.per_step.value_s == 0.001
    path.write_text("base: vllm\nhost:\n  per_step:\n    value_s: 0.002  # edited\n")
    assert perfsim.load_runtime(str(path)).host.per_step.value_s == 0.002
    monkeypatch.setenv("PERFSIM_PATH", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    bundled = find("runtimes", "vllm")[1]
    (tmp_path / "vllm.yaml").write_text("base: mine.yaml\n")  # a file added earlier in the search path
    assert find("runtimes", "vllm")[1] == "base: mine.yaml\n"
    (tmp_path / "vllm.yaml").unlink()
    assert find("runtimes", "vllm")[1] == bundled
    with pytest.raises(PerfsimInputError, match="unknown runtime"):
        find("runtimes", "no-such-runtime")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(MODELS),
    hw=st.sampled_from(HARDWARE),
    runtime=st.sampled_from(RUNTIMES),
    batch=st.integers(1, 600),
    length=st.integers(1, 30000),
    q=st.integers(1, 9),
    kind=st.sampled_from(["decode", "prefill", "bidirectional"]),
)
def test_a_table_read_has_the_same_bits_as_pricing_directly(
    monkeypatch, name, hw, runtime, batch, length, q, kind
):
    """Whether a step is read from a table or priced kernel by kernel depends on what was asked
    before; the numbers must not (a repeated call returns exactly the same figures)."""
    model, profile = perfsim.load_model(name), perfsim.load_hardware(hw)
    try:
        deployed = resolved.deployment(runtime, profile)
    except PerfsimInputError:
        return
    device, execution = deployed.hw, deployed.execution
    step = (
        StepBatch(decode_seqs=batch, decode_context=length, decode_tokens=q)
        if kind == "decode"
        else StepBatch(prefill_seqs=batch, prefill_tokens=length, prefill_causal=kind == "prefill")
    )
    run = StepBatch(
        decode_seqs=batch, decode_context=np.arange(length, length + 300, dtype=float), decode_tokens=q
    )
    with monkeypatch.context() as m:  # kernel by kernel
        m.setattr(tables.StepTables, "scalar", lambda self, s: None)
        m.setattr(tables.StepTables, "decode_contexts", lambda self, s: None)
        direct = evaluate_step(model, device, step, execution).to_dict()
        direct_run = step_latency(model, device, run, execution)
    _fill_at_once(monkeypatch)
    assert evaluate_step(model, device, step, execution).to_dict() == direct
    np.testing.assert_array_equal(step_latency(model, device, run, execution), direct_run)


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(MODELS),
    hw=st.sampled_from(HARDWARE),
    batch=st.integers(1, 4096),
    context=st.integers(1, 200000),
    chunk=st.sampled_from([None, 512, 2048, 8192]),
    tp=st.sampled_from([1, 2]),
    draft=st.booleans(),
)
def test_the_quick_fit_check_equals_the_report(name, hw, batch, context, chunk, tp, draft):
    model, profile = perfsim.load_model(name), perfsim.load_hardware(hw)
    drafter = perfsim.load_model("qwen3-0.6b") if draft else None
    kwargs = dict(
        tensor_parallel=tp, prefill_chunk_tokens=chunk, draft=drafter, draft_shared_params=1e6 * draft
    )
    try:
        report = memory(model, profile, batch, context, **kwargs)
    except PerfsimInputError:
        return
    assert request._fits(model, profile, batch, context, **kwargs) == report.fits
