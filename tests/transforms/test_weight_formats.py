"""Weight-only storage formats as model dtypes (issue 19 item 1)."""

import pytest

import perfsim
from perfsim.cost.params import model_params
from perfsim.errors import PerfsimInputError
from perfsim.transforms import ActivationDType, WeightDType
from perfsim.units import WEIGHT_FORMAT_BITS

LLAMA = perfsim.load_model("llama-3.1-8b")


@pytest.mark.parametrize("fmt", sorted(WEIGHT_FORMAT_BITS))
def test_weight_dtype_accepts_every_format_and_scales_bytes_by_its_bits(fmt):
    quantised = perfsim.apply_transforms(LLAMA, [WeightDType(fmt)])
    assert quantised.dtypes.weights == fmt
    assert model_params(quantised) == model_params(LLAMA)
    assert quantised.weight_bytes_per_param * 8 == pytest.approx(WEIGHT_FORMAT_BITS[fmt])


@pytest.mark.parametrize("fmt", ["int4_awq", "int4_gptq", "q4_k_m", "q8_0"])
def test_weight_only_formats_are_not_activation_formats(fmt):
    with pytest.raises(PerfsimInputError, match="dtype must be one of"):
        ActivationDType(fmt)


def test_block_fp4_formats_can_be_activations():
    assert ActivationDType("nvfp4").dtype == "nvfp4"
