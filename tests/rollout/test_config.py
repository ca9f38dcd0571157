"""RolloutConfig: defaults, YAML, and one-sentence errors for impossible settings."""

import pytest

from perfsim.decoding import Speculative
from perfsim.errors import PerfsimInputError
from perfsim.rollout import RolloutConfig
from perfsim.sim import EngineConfig, Fixed, LogNormal


def test_defaults_and_derived_counts():
    cfg = RolloutConfig(prompts_per_step=32, samples_per_prompt=16, generation_gpus=8, tensor_parallel=2)
    assert cfg.rollouts_per_step == 512 and cfg.engines == 4
    assert isinstance(cfg.output_len, LogNormal) and cfg.pipeline == "sync"


def test_lengths_accept_ints_strings_and_distributions():
    cfg = RolloutConfig(prompt_len=300, output_len="100-200")
    assert cfg.prompt_len == Fixed(300) and cfg.output_len.max_tokens == 200
    assert RolloutConfig(output_len=Fixed(7)).output_len == Fixed(7)


@pytest.mark.parametrize("fields, match", [
    ({"placement": "colocated", "training_gpus": 4}, "training_gpus .* must equal generation_gpus"),
    ({"pipeline": "partial"}, "needs partial_rollout_tokens"),
    ({"pipeline": "overlapped"}, "unknown; allowed: async, partial, sync"),
    ({"generation_gpus": 6, "training_gpus": 6, "tensor_parallel": 4}, "multiple of tensor_parallel"),
    ({"steps": 0}, "field 'steps'"),
    ({"length_drift_per_step": -1.0}, "field 'length_drift_per_step'"),
    ({"training_mfu": 1.5}, "field 'training_mfu'"),
    ({"output_len": "lots"}, "field 'output_len' .* use N, LOW-HIGH"),
    ({"acceptance_by_step": (0.5,)}, "needs a speculative decoding strategy"),
    ({"decoding": "warp"}, "unknown decoding 'warp'"),
    ({"engine": {"max_seqs": 4}}, "engine accepts only"),
    ({"samples": 4}, "field 'samples' is not a known key"),
])
def test_bad_settings_are_one_sentence(fields, match):
    with pytest.raises(PerfsimInputError, match=match) as info:
        RolloutConfig(**fields)
    assert str(info.value).startswith("rollout config") and "\n" not in str(info.value)


def test_yaml_file_with_decoding_and_engine(write_yaml):
    path = write_yaml({"steps": 2, "output_len": "lognormal:1000:1.0:50000", "pipeline": "async",
                       "placement": "disaggregated", "training_gpus": 4,
                       "decoding": {"name": "speculative", "k": 3, "acceptance": 0.6, "draft": "eagle"},
                       "engine": {"max_num_seqs": 64, "gpu_memory_utilization": 0.7}})
    cfg = RolloutConfig.from_yaml(path)
    assert cfg.decoding == Speculative(k=3, acceptance=0.6, draft="eagle")
    assert cfg.engine == EngineConfig(max_num_seqs=64, gpu_memory_utilization=0.7)
    assert cfg.training_gpus == 4 and cfg.steps == 2


@pytest.mark.parametrize("text, match", [
    ("steps: [1", "not valid YAML"),
    ("- 1\n- 2\n", "expected a mapping"),
    ("steps: 2\nwarmup: 3\n", "field 'warmup' is not a known key"),
])
def test_bad_yaml_names_the_file(write_yaml, text, match):
    path = write_yaml(text)
    with pytest.raises(PerfsimInputError, match=match) as info:
        RolloutConfig.from_yaml(path)
    assert str(path) in str(info.value)


def test_missing_yaml_file(tmp_path):
    with pytest.raises(PerfsimInputError, match="rollout config file not found"):
        RolloutConfig.from_yaml(tmp_path / "nope.yaml")
