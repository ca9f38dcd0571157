"""All-reduce: ring, one-shot and two-shot, the fastest chosen; a measured peer-sync latency."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from perfsim.ops import AllReduce, kernel_time


def _with_comm(hw, **comm):
    data = hw.model_dump()
    data["efficiency"]["comm"] |= comm
    return type(hw).model_validate(data)


@given(st.floats(1e2, 2e9), st.sampled_from([2, 4, 8]))
def test_never_slower_than_ring_and_monotone_in_bytes(h100, nbytes, gpus):
    link = h100.interconnect.scale_up
    bw = link.bw_bytes_per_s_per_dir * h100.efficiency_in_use.comm.allreduce_bus_eff
    ring = 2 * (gpus - 1) / gpus * nbytes / bw + 2 * (gpus - 1) * link.latency_s
    t = kernel_time(h100, AllReduce(nbytes, gpus))
    assert t <= ring + 1e-15
    assert kernel_time(h100, AllReduce(nbytes * 2, gpus)) >= t


def test_measured_peer_latency_sets_the_small_message_floor(h100):
    fast = _with_comm(h100, allreduce_latency_s=4e-6)
    assert kernel_time(fast, AllReduce(256.0, 8)) == np.float64(4e-6) + 7 * 256.0 / (
        fast.interconnect.scale_up.bw_bytes_per_s_per_dir * 0.8)
    assert kernel_time(fast, AllReduce(256.0, 8)) < kernel_time(h100, AllReduce(256.0, 8))


def test_two_shot_wins_mid_size_messages_on_eight_gpus(h100):
    fast = _with_comm(h100, allreduce_latency_s=4e-6)
    bw = fast.interconnect.scale_up.bw_bytes_per_s_per_dir * 0.8
    nbytes = 4 * 2**20
    assert kernel_time(fast, AllReduce(nbytes, 8)) == 2 * 4e-6 + 2 * 7 / 8 * nbytes / bw


@pytest.mark.parametrize("gpus", [2, 4, 8])
def test_nccl_ring_pays_a_step_per_peer(h100, gpus):
    """NCCL's ring alone (no one-/two-shot kernel): one synchronisation plus a step per peer."""
    nccl = _with_comm(h100, allreduce_latency_s=6e-6, ring_step_s=1.5e-6)
    bw = nccl.interconnect.scale_up.bw_bytes_per_s_per_dir * 0.8
    nbytes = 4096.0
    ring = 2 * (gpus - 1) / gpus * nbytes / bw + 6e-6 + (gpus - 1) * 1.5e-6
    assert kernel_time(nccl, AllReduce(nbytes, gpus, "ring")) == pytest.approx(ring, rel=1e-12)
    assert kernel_time(nccl, AllReduce(nbytes, gpus)) < ring  # a custom kernel's one-shot is faster


@pytest.mark.parametrize("gpus", [4, 8])
def test_pcie_only_parts_run_the_ring_whatever_the_engine_asks(gpus):
    """Custom one-/two-shot kernels read every peer's buffer directly: with no NVLink and more than
    two GPUs they are not available, so `auto` prices NCCL's ring."""
    import perfsim

    l40s = perfsim.load_hardware("l40s")
    assert l40s.interconnect.scale_up is None
    sizes = np.geomspace(1e3, 1e8, 12)
    auto = kernel_time(l40s, AllReduce(sizes, gpus))
    assert np.array_equal(auto, kernel_time(l40s, AllReduce(sizes, gpus, "ring")))
    two = kernel_time(l40s, AllReduce(sizes, 2))
    assert (two <= kernel_time(l40s, AllReduce(sizes, 2, "ring"))).all()
    assert (two < kernel_time(l40s, AllReduce(sizes, 2, "ring")))[:4].all()  # one-shot at small sizes
