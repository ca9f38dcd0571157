"""Vectorised evaluation of many (model, hardware, batch, context) points for sweeps.

Each (model, hardware) pair is one call into the same op code with numpy arrays as shapes, so
a grid of thousands of (batch, context) points costs about as much as a handful of scalar calls.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from perfsim.graph import Execution, StepBatch
from perfsim.load import load_hardware, load_model
from perfsim.memory import activation_bytes_per_token, kv_bytes_per_seq, state_bytes_per_seq
from perfsim.params import model_params
from perfsim.predict import step_latency


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
    frames = []
    for model in map(load_model, models):
        weights = model_params(model).total * model.weight_bytes_per_param / execution.tensor_parallel
        kv_tok = kv_bytes_per_seq(model, 1, execution.tensor_parallel)
        windowed = any(getattr(s, "window", None) for s in model.sublayers)
        kv = np.array([kv_bytes_per_seq(model, x, execution.tensor_parallel) for x in np.unique(c)]) \
            if windowed else None
        state = state_bytes_per_seq(model, execution.tensor_parallel)
        act_tok = activation_bytes_per_token(model, execution.tensor_parallel)
        logits_row = model.vocab_size / execution.tensor_parallel * 4.0  # fp32 logits, as memory()
        seq_kv = np.interp(c, np.unique(c), kv) if windowed else kv_tok * c
        if phase == "decode":
            step = StepBatch(decode_seqs=b, decode_context=c)
            tokens = b
        else:
            step = StepBatch(prefill_seqs=b, prefill_tokens=c)
            tokens = b * c
        for hw in map(load_hardware, hardware):
            latency = step_latency(model, hw, step, execution)
            # the step's activation peak and logits, as `perfsim.memory` counts them
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
