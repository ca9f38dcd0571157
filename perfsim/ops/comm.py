"""Tensor-parallel collectives: all-reduce over the scale-up link.

Three algorithms, the fastest is used (as NCCL's tuner and the runtimes' custom all-reduce choose
by message size): ring, 2(n-1)/n x bytes / (bus_eff x BW) + 2(n-1) alpha (hardware.md section 4),
bandwidth-optimal for large messages; one-shot, where each GPU reads its n-1 peers' buffers,
t0 + (n-1) x bytes / (bus_eff x BW), latency-optimal for the small decode activations; and
two-shot (reduce-scatter then all-gather through peer memory, vLLM's and TensorRT-LLM's custom
kernels for mid-size messages), 2 t0 + 2(n-1)/n x bytes / (bus_eff x BW). t0 is one peer
synchronisation (`comm.allreduce_latency_s`, measured by a calibration; the link latency without).
Two-shot is priced only where t0 is measured: with the link latency alone it would undercut the
ring at every size, which the uncalibrated end-to-end checks (fidelity_trtllm.py) do not support.
NCCL alone (`algorithm="ring"`) has only the ring; measured, its small-message time is one
synchronisation plus a step per peer (`comm.ring_step_s`, aiconfigurator-core nccl tables). On
PCIe-only parts with more than two GPUs the custom kernels are not available (they read peers'
memory directly; vLLM disables its custom all-reduce there), so the ring is used whatever the
runtime asks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perfsim.errors import PerfsimInputError
from perfsim.ops.base import Cost, Op, register_op


@register_op("allreduce")
@dataclass(frozen=True)
class AllReduce(Op):
    bytes_per_gpu: float | np.ndarray
    num_gpus: int
    #: "auto": the fastest of ring, one-shot and two-shot (what runtimes with a custom all-reduce
    #: pick by size); "ring": NCCL's ring alone.
    algorithm: str = "auto"

    def cost(self) -> Cost:
        return Cost(0.0, 2.0 * (self.num_gpus - 1) / self.num_gpus * self.bytes_per_gpu)

    def time(self, hw):
        if self.num_gpus == 1:
            return np.zeros_like(np.asarray(self.bytes_per_gpu, dtype=float))
        link = hw.interconnect.scale_up
        if link is None:
            link = hw.interconnect.host_link  # peer traffic goes over PCIe on parts without NVLink
        if self.num_gpus > max(link.domain_size, 1) and hw.interconnect.scale_up is not None:
            raise PerfsimInputError(
                f"tensor parallelism {self.num_gpus} exceeds the {link.domain_size}-GPU "
                f"{link.type} domain of '{hw.id}'; allowed: 1..{link.domain_size}."
            )
        eff = hw.efficiency_in_use.comm
        bw = link.bw_bytes_per_s_per_dir * eff.allreduce_bus_eff
        n = self.num_gpus
        t0 = link.latency_s if eff.allreduce_latency_s is None else eff.allreduce_latency_s
        hops = 2 * (n - 1) * link.latency_s if eff.ring_step_s is None else t0 + (n - 1) * eff.ring_step_s
        ring = self.cost().bytes / bw + hops
        # custom one-/two-shot kernels read every peer's buffer directly: they need NVLink, or at
        # most two GPUs on PCIe (vLLM turns its custom all-reduce off on more PCIe-only GPUs)
        if self.algorithm == "ring" or (hw.interconnect.scale_up is None and n > 2):
            return np.where(np.asarray(self.bytes_per_gpu) > 0, ring, 0.0)
        one_shot = (n - 1) * self.bytes_per_gpu / bw + t0
        t = np.minimum(ring, one_shot)
        if eff.allreduce_latency_s is not None:
            t = np.minimum(t, self.cost().bytes / bw + 2 * t0)  # two-shot
        return np.where(np.asarray(self.bytes_per_gpu) > 0, t, 0.0)

    def bound(self, hw) -> str:
        return "communication"
