"""GEMM and fused-MoE efficiency figures: defaults change nothing, and a MoE path's own figures
come before the shared ones (runner first, then the weight scaling's path)."""

import pytest
from pydantic import ValidationError

from perfsim.spec.gemm_figures import MoEEfficiency, MoEPathFigures, QuantKernelFigures


def test_defaults_are_the_dense_model_but_for_the_fitted_main_loop_prior():
    path = MoEEfficiency().path("none")
    assert path == (1.0, 0.8, 0.0, 0.0)
    assert QuantKernelFigures().row_s == 0.0 and QuantKernelFigures().e_bw is None


def test_runner_figures_come_before_the_scaling_path_and_fall_back_field_by_field():
    eff = MoEEfficiency(grouped_gemm_e=0.9, t_fixed_s=1e-5, expert_s=1e-7,
                        per_tensor_fp8=MoEPathFigures(grouped_gemm_e=0.3, mainloop_e=0.5),
                        flashinfer_cutlass=MoEPathFigures(grouped_gemm_e=0.25, expert_s=2e-6))
    assert eff.path("tensor") == (0.3, 0.5, 1e-5, 1e-7)
    assert eff.path("tensor", "flashinfer_cutlass") == (0.25, 0.5, 1e-5, 2e-6)
    assert eff.path("none", "flashinfer_cutlass") == (0.25, 0.8, 1e-5, 2e-6)
    assert eff.path("none", "fused").grouped_gemm_e == 0.9


@pytest.mark.parametrize("bad", [{"expert_s": -1e-6}, {"mainloop_e": 0.0}, {"unknown": 1.0}])
def test_bad_figures_are_refused(bad):
    with pytest.raises(ValidationError):
        MoEEfficiency(**bad)
