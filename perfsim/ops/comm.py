"""Tensor-parallel collectives: all-reduce over the scale-up link.

Two algorithms, the faster one is used (as NCCL's tuner and vLLM's custom all-reduce choose by
message size): ring, 2(n-1)/n x bytes / (bus_eff x BW) + 2(n-1) alpha (hardware.md section 4),
bandwidth-optimal for large messages; and one-shot, where each GPU reads its n-1 peers' buffers,
alpha + (n-1) x bytes / (bus_eff x BW), latency-optimal for the small decode activations.
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
        bw = link.bw_bytes_per_s_per_dir * hw.efficiency_in_use.comm.allreduce_bus_eff
        n = self.num_gpus
        ring = self.cost().bytes / bw + 2 * (n - 1) * link.latency_s
        one_shot = (n - 1) * self.bytes_per_gpu / bw + link.latency_s
        t = np.minimum(ring, one_shot)
        return np.where(np.asarray(self.bytes_per_gpu) > 0, t, 0.0)

    def bound(self, hw) -> str:
        return "communication"
