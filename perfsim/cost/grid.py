"""Vectorised evaluation of many (model, hardware, batch, context) points for sweeps.

Each (model, hardware) pair is one call into the same op code with numpy arrays as shapes, so
a grid of thousands of (batch, context) points costs about as much as a handful of scalar calls.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from perfsim.cost.graph import Execution, StepBatch
from perfsim.cost.memory import (
    activation_bytes_per_token,
    kv_bytes_per_seq,
    logits_bytes_per_row,
    state_bytes_per_seq,
    weight_bytes,
)
from perfsim.cost.step import step_latency
from perfsim.io.load import load_hardware, load_model


def evaluate_grid(
    models: Iterable,
    hardware: Iterable,
    batch: Sequence[int] | np.ndarray,
    context_len: Sequence[int] | np.ndarray,
    *,
    phase: Literal["decode", "prefill"] = "decode",
    execution: Execution | None = None,
) -> pd.DataFrame:
    """Step latency, throughput and fit for the full grid models x hardware x batch x context.

    Decode: one token for each of `batch` sequences with `context_len` cached.
    Prefill: `batch` prompts of `context_len` tokens (latency = TTFT).
    """
    execution = execution or Execution()
    b, c = np.meshgrid(np.asarray(batch, float), np.asarray(context_len, float), indexing="ij")
    b, c = b.ravel(), c.ravel()
    frames, tp = [], execution.tensor_parallel
    for model in map(load_model, models):
        weights = weight_bytes(model, tp)
        seq_kv = kv_bytes_per_seq(model, c, tp)
        state = state_bytes_per_seq(model, tp)
        act_tok = activation_bytes_per_token(model, tp)
        logits_row = logits_bytes_per_row(model, tp)
        if phase == "decode":
            step = StepBatch(decode_seqs=b, decode_context=c)
            tokens = b
        else:
            step = StepBatch(prefill_seqs=b, prefill_tokens=c)
            tokens = b * c
        for hw in map(load_hardware, hardware):
            latency = step_latency(model, hw, step, execution)
            # the step's activation peak and logits, as `perfsim.cost.memory` counts them
            need = (weights + b * (seq_kv + state + logits_row) + tokens * act_tok
                    + hw.memory.reserved_runtime_bytes)
            frames.append(pd.DataFrame({
                "model": model.id,
                "hardware": hw.id,
                "phase": phase,
                "batch": b.astype(int),
                "context_len": c.astype(int),
                "latency_s": latency,
                "tokens_per_s": tokens / latency,
                "memory_bytes": need,
                "fits": need <= hw.memory.usable_bytes,
            }))
    return pd.concat(frames, ignore_index=True)
