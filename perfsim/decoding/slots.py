"""Free-token-slot curve: one forward's latency versus query tokens per sequence at fixed context.

At small batch a decode forward is weight-bandwidth-bound, so extra query tokens ride along
almost free until the GEMMs turn compute-bound: the knee that speculative, diffusion and TiDAR
decoding exploit (TiDAR, papers.md section 2, validation case 1).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from perfsim.cost.graph import StepBatch
from perfsim.cost.step import step_latency
from perfsim.io.load import load_hardware, load_model
from perfsim.spec.deployment import Execution

DEFAULT_SLOTS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


def free_token_slots(model, hw, context_len: int, slots=DEFAULT_SLOTS, batch: int = 1,
                     execution: Execution | None = None, knee_ratio: float = 1.1) -> pd.DataFrame:
    """Latency per slot count and its ratio to one slot; `attrs['knee_slots']` is the last slot
    count whose latency stays within `knee_ratio` of the one-slot forward."""
    model, hw = load_model(model), load_hardware(hw)
    q = np.asarray(slots, dtype=float)
    execution = execution or Execution()

    def latency_at(tokens):
        step = StepBatch(decode_seqs=batch, decode_context=context_len, decode_tokens=tokens)
        return step_latency(model, hw, step, execution)

    latency, base = latency_at(q), float(latency_at(1))
    frame = pd.DataFrame({"slots": q.astype(int), "latency_s": latency, "relative": latency / base})
    within = frame.loc[frame["relative"] <= knee_ratio, "slots"]
    frame.attrs["knee_slots"] = int(within.max()) if len(within) else 0
    return frame
