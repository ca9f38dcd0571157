"""simulate_rollouts end to end: conservation, phases, truncation, drift, speculation, costs."""

import numpy as np
import pytest

import perfsim
from perfsim.cost.params import model_params
from perfsim.decoding import Speculative
from perfsim.rollout import RolloutConfig, simulate_rollouts
from perfsim.rollout.phases import TrainingCost, sync_seconds

MODEL, HW = "qwen3-0.6b", "h100-sxm"
SMALL = dict(steps=3, prompts_per_step=8, samples_per_prompt=4, prompt_len=128,
             output_len="lognormal:300:0.9:100000", max_output_len=1024, generation_gpus=2,
             training_gpus=2)


def run(seed=0, runtime="vllm", **fields):
    return simulate_rollouts(MODEL, HW, RolloutConfig(**{**SMALL, **fields}), seed=seed, runtime=runtime)


@pytest.mark.parametrize("pipeline, extra", [("sync", {}), ("async", {"placement": "disaggregated"}),
                                             ("partial", {"partial_rollout_tokens": 200})])
def test_every_rollout_is_generated_and_trained_once(pipeline, extra):
    result = run(pipeline=pipeline, **extra)
    r, steps = result.rollouts, result.steps
    assert len(r) == 3 * 32 and r.rollout.is_unique
    trained = r[r.step_trained.notna()]
    assert steps.rollouts_trained.sum() == len(trained)
    assert len(trained) + result.summary()["carried_over"] == len(r)
    # a trained rollout wrote its whole output, spread over one or more steps
    assert (trained.generated_tokens + 128 == trained.sequence_tokens).all()
    assert steps.generated_tokens.sum() == r.generated_tokens.sum()
    assert steps.trained_tokens.sum() == trained.sequence_tokens.sum()


def test_partial_rollouts_carry_long_tails_and_cut_the_step():
    full, partial = run(), run(pipeline="partial", partial_rollout_tokens=150)
    carried = partial.rollouts[partial.rollouts.steps_generating > 1]
    assert len(carried) > 0 and partial.steps.carried_over.iloc[:-1].sum() > 0
    assert (partial.steps.generation_s < full.steps.generation_s).all()
    longest = partial.rollouts.generated_tokens.max()
    assert longest > 150  # written over several steps, never more than the budget in one
    assert partial.rollouts.steps_generating.max() >= np.ceil(longest / 150) - 1


def test_sync_step_time_is_generation_plus_training_plus_sync():
    s = run().steps
    np.testing.assert_allclose(s.step_s, s.generation_s + s.training_s + s.sync_s, rtol=1e-12)
    np.testing.assert_allclose(s.training_s, s.logprob_s + s.update_s, rtol=1e-12)


def test_async_is_faster_on_separate_pools_and_equal_when_colocated():
    sync_d = run(placement="disaggregated").summary()
    async_d = run(placement="disaggregated", pipeline="async").summary()
    assert async_d["total_s"] < sync_d["total_s"]
    assert async_d["generation_s"] == pytest.approx(sync_d["generation_s"])  # same work, same seed
    assert run(pipeline="async").total_s == pytest.approx(run().total_s)


def test_disaggregated_bubbles_and_utilisation():
    result = run(placement="disaggregated")
    s, summary = result.steps, result.summary()
    assert summary["idle_generation_s"] == pytest.approx(s.training_s.mean())
    assert summary["idle_training_s"] == pytest.approx(s.generation_s.mean())
    assert 0 < summary["engine_utilisation"] <= 1
    assert 0 < summary["training_utilisation"] < 1 and 0 < summary["generation_utilisation"] < 1
    assert run().summary()["idle_s"] == 0.0  # colocated synchronous: one pool, always busy


def test_truncation_caps_every_rollout():
    result = run(output_len=5000, max_output_len=700)
    assert (result.rollouts.generated_tokens == 700).all()
    assert result.summary()["truncated_fraction"] == 1.0
    assert result.steps.truncated.sum() == len(result.rollouts)


def test_negative_length_drift_shortens_later_steps():
    s = run(steps=4, output_len=600, length_drift_per_step=-0.2).steps
    per_rollout = s.generated_tokens / s.rollouts_generated
    np.testing.assert_allclose(per_rollout, np.rint(600 * 0.8 ** np.arange(4)), rtol=1e-9)
    assert (np.diff(s.generation_s) < 0).all()


def test_same_seed_same_result_and_seeds_differ():
    a, b, c = run(seed=1), run(seed=1), run(seed=2)
    assert a.steps.equals(b.steps) and a.timeline.equals(b.timeline)
    assert not a.steps.generated_tokens.equals(c.steps.generated_tokens)


def test_speculative_benefit_falls_as_the_generation_batch_grows():
    eagle = Speculative(k=3, acceptance=0.7, draft="eagle")

    def speedup(prompts):  # kernel physics alone: verify compute grows with the batch
        fields = dict(steps=1, prompts_per_step=prompts, samples_per_prompt=8, generation_gpus=1,
                      training_gpus=1, output_len=512, prompt_len=256, runtime=None)
        ar = run(**fields).summary()["generation_s"]
        return ar / run(**fields, decoding=eagle).summary()["generation_s"]

    small, large = speedup(1), speedup(64)
    assert small > 1.5 and large < small


def test_acceptance_schedule_changes_generation_per_step():
    eagle = Speculative(k=3, acceptance=0.9, draft="eagle")
    s = run(steps=2, output_len=400, decoding=eagle, acceptance_by_step=(0.9, 0.3)).steps
    assert s.acceptance.tolist() == [0.9, 0.3]
    assert s.generation_s[1] > 1.3 * s.generation_s[0]


def test_training_time_follows_flops_mfu_and_gpus():
    base = run(steps=1)
    assert run(steps=1, training_mfu=0.2).steps.training_s[0] == pytest.approx(2 * base.steps.training_s[0])
    assert run(steps=1, training_gpus=4, generation_gpus=4).steps.update_s[0] == pytest.approx(
        base.steps.update_s[0] / 2)
    critic = run(steps=1, critic=True).steps
    assert critic.update_s[0] == pytest.approx(2 * base.steps.update_s[0])
    assert critic.logprob_s[0] == pytest.approx(base.steps.logprob_s[0])


def test_training_flops_are_six_n_d_plus_attention():
    """Forward FLOPs per token are 2 x params (lm_head over every row) plus a causal-attention
    term that grows with length, so a long sequence costs more per token than a short one."""
    model, hw = perfsim.load_model("qwen3-8b"), perfsim.load_hardware(HW)
    cost = TrainingCost(model, hw, RolloutConfig(), 32768)
    matmul_params = model_params(model).total - model.vocab_size * model.hidden_size  # no input lookup
    short, long = cost.forward_flops(np.array([256.0, 32768.0]))
    assert short / 256 == pytest.approx(2 * matmul_params, rel=0.05)
    assert long / 32768 > 1.2 * short / 256


def test_sync_time_is_weights_over_the_link_plus_fixed_cost():
    model, hw = perfsim.load_model("qwen3-8b"), perfsim.load_hardware(HW)
    weights = model_params(model).total * 2
    colocated = sync_seconds(model, hw, RolloutConfig(sync_fixed_s=0.0), perfsim.decoding.make_decoding(None))
    link = hw.interconnect.scale_up
    assert colocated == pytest.approx(weights / link.bw_bytes_per_s_per_dir + link.latency_s)
    cfg = RolloutConfig(placement="disaggregated", sync_fixed_s=0.5, tensor_parallel=2)
    assert sync_seconds(model, hw, cfg, perfsim.decoding.make_decoding(None)) == pytest.approx(
        0.5 + weights / 2 / 50e9)
    eagle = Speculative(k=3, acceptance=0.7, draft="eagle")
    assert sync_seconds(model, hw, RolloutConfig(), eagle) > sync_seconds(
        model, hw, RolloutConfig(), perfsim.decoding.make_decoding(None))


def test_timeline_columns_and_chrome_trace(tmp_path):
    result = run(placement="disaggregated", pipeline="async")
    assert set(result.timeline.pool) == {"generation", "training"}
    assert set(result.timeline.phase) == {"generation", "training", "sync", "idle"}
    path = tmp_path / "trace.json"
    result.to_chrome_trace(path)
    assert '"traceEvents"' in path.read_text()


def test_training_hardware_prices_training_only():
    a = run(steps=1)
    b = simulate_rollouts(MODEL, HW, RolloutConfig(**{**SMALL, "steps": 1}),
                          training_hardware="a100-sxm-80gb")
    assert b.steps.generation_s[0] == a.steps.generation_s[0]
    assert b.steps.training_s[0] > 2 * a.steps.training_s[0]


def test_rollouts_that_exceed_the_context_fail_in_one_sentence():
    with pytest.raises(perfsim.PerfsimInputError, match=r"a rollout can reach 50128 tokens .* lower "
                                                        r"max_output_len to at most 40832"):
        run(max_output_len=50_000)
