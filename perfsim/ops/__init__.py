"""Operator cost models, one module per family; `registered_ops()` lists them by name.

Adding an operator: a new module with a frozen dataclass subclassing `Op`, decorated with
`@register_op("name")`, implementing `cost()` (FLOPs, bytes) and `time(hw)`; import it here.
"""

from perfsim.ops.attention import Attention, visible_keys
from perfsim.ops.base import Cost, Op, kernel_time, register_op, registered_ops
from perfsim.ops.causal_conv import CausalConv1d
from perfsim.ops.comm import AllReduce
from perfsim.ops.elementwise import Elementwise
from perfsim.ops.gemm import Gemm
from perfsim.ops.linear_attention import LinearAttention
from perfsim.ops.moe import MoE, experts_touched
from perfsim.ops.quant import ActivationQuant
from perfsim.ops.ssm import Mamba2

__all__ = [
    "ActivationQuant",
    "AllReduce",
    "Attention",
    "CausalConv1d",
    "Cost",
    "Elementwise",
    "Gemm",
    "LinearAttention",
    "Mamba2",
    "MoE",
    "Op",
    "experts_touched",
    "kernel_time",
    "register_op",
    "registered_ops",
    "visible_keys",
]
