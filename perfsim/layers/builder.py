"""What every layer kind needs to emit a step's kernels: the step's shapes, the model's widths and
dtypes, tensor parallelism, and the kernels layers share (GEMM, fused norm, all-reduce, short
conv, decode/prefill scans)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from perfsim.errors import PerfsimInputError
from perfsim.layers.types import DECODE, PREFILL, TOKEN, Kernel
from perfsim.ops import AllReduce, CausalConv1d, Elementwise, Gemm, Op
from perfsim.units import DTYPE_BYTES


def split(n: int, tp: int, what: str) -> int:
    """`n` divided over `tp` GPUs; an error naming `what` when it does not divide."""
    if n % tp:
        raise PerfsimInputError(f"tensor_parallel {tp} must divide {what} ({n}).")
    return n // tp


def has_experts(model: Any) -> bool:
    """Whether a model has routed experts (expert parallelism means something for it)."""
    return any(hasattr(op, "num_experts") for op in model.sublayers)


class StepBuilder:
    """Shapes of one forward (`s`, fields may be numpy arrays) on one tensor-parallel shard.

    `t` is the step's tokens, `h` the hidden size, `a`/`wd` the activation and weight dtypes and
    `ab` the bytes of a bf16-or-wider activation value. The arguments are a
    perfsim.spec.model.ModelSpec, a perfsim.cost.graph.StepBatch and Execution (not imported here:
    both modules import this package).
    """

    def __init__(self, model: Any, step: Any, execution: Any):
        self.m, self.s, self.tp = model, step, execution.tensor_parallel
        # expert parallelism (perfsim.spec.deployment.Execution.expert_parallel): read by MoE layers
        self.ep = getattr(execution, "expert_parallel", 1)
        self.expert_load_imbalance = getattr(execution, "expert_load_imbalance", 1.0)
        self.moe_ep_every_copy = getattr(execution, "moe_ep_every_copy", False)
        #: "auto" (custom one-/two-shot kernels where faster) or "ring" (NCCL alone)
        self.allreduce_algorithm = "auto" if getattr(execution, "custom_allreduce", True) else "ring"
        if self.ep > 1 and not has_experts(model):
            raise PerfsimInputError(
                f"expert_parallel {self.ep} needs a model with MoE layers, and {model.id} has none; "
                f"use expert_parallel 1 (tensor parallelism alone shards a dense model).")
        self.a = model.dtypes.activations
        # Quantised activations (W8A8 FP8, FP4) exist only as GEMM inputs: the norm before a GEMM
        # writes them, the GEMM accumulates and writes bf16, and the residual stream, elementwise
        # kernels and TP all-reduces stay bf16 (TensorRT-LLM / ModelOpt FP8 recipe).
        self.a_stream = self.a if DTYPE_BYTES[self.a] >= DTYPE_BYTES["bf16"] else "bf16"
        self.ab = DTYPE_BYTES[self.a_stream]
        self.wd = model.dtypes.weights
        self.h = model.hidden_size
        self.t = step.tokens
        # attention kernel implementation per phase (a runtime's choice; None: the profile's default)
        self.attention_impl = {"prefill": getattr(execution, "attention_prefill_impl", None),
                               "decode": getattr(execution, "attention_decode_impl", None)}

    def split(self, n: int, what: str) -> int:
        return split(n, self.tp, what)

    def gemm(self, m, n, k, groups=1.0) -> Gemm:
        return Gemm(m, n, k, self.a, self.wd, groups)

    def norm(self, width=None) -> Elementwise:
        # fused residual-add + RMSNorm: read x and residual, write both
        width = width or self.h
        return Elementwise("add_norm", 2 * self.t * width * self.ab, 2 * self.t * width * self.ab)

    def pre_norm(self) -> Kernel:
        return Kernel("norm", self.norm(), TOKEN)

    def allreduce(self) -> list[Kernel]:
        if self.tp == 1:
            return []
        return [Kernel("allreduce", self.allreduce_op(self.t * self.h * self.ab), TOKEN)]

    def allreduce_op(self, bytes_per_gpu) -> AllReduce:
        """The tensor-parallel all-reduce of `bytes_per_gpu`, with the engine's algorithm choice."""
        return AllReduce(bytes_per_gpu, self.tp, self.allreduce_algorithm)

    def convs(self, channels: int, width: int) -> list[Kernel]:
        """Depthwise causal conv over `channels` (perfsim.ops.CausalConv1d): a one-token state
        update for the decode sequences and a stream over the prefill chunks, each its own kernel
        with its own measured figures."""
        s, a = self.s, self.a_stream
        decode = CausalConv1d("decode", s.decode_seqs, s.decode_tokens, channels, width, a)
        prefill = CausalConv1d("prefill", s.prefill_seqs, s.prefill_tokens, channels, width, a)
        return [Kernel("conv1d_decode", decode, DECODE), Kernel("conv1d_prefill", prefill, PREFILL)]

    def scans(self, make: Callable[[str, object, object], Op]) -> list[Kernel]:
        """A recurrent scan for the decode sequences and one for the prefill chunks;
        `make(phase, batch, length)` builds the op."""
        s = self.s
        return [Kernel("scan_decode", make("decode", s.decode_seqs, s.decode_tokens), DECODE),
                Kernel("scan_prefill", make("prefill", s.prefill_seqs, s.prefill_tokens), PREFILL)]
