"""Request-level efficiency: what a user pays per answered request, not per token.

A reasoning model's effort setting (or a faster variant that writes longer traces) changes how
many tokens a request generates. Tokens/s alone would call the longer writer "faster"; requests/s
at the same concurrency does not. Each candidate runs through the serving simulator (continuous
batching, KV limits, the decoding strategy) with its own output-length distribution, so the
long tail of a length distribution costs what it costs in a real engine (Puzzle, gpt-oss-puzzle:
papers.md section 6b).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from perfsim.cost.runtime import DEFAULT_RUNTIME, RuntimeLike
from perfsim.errors import PerfsimInputError
from perfsim.sim import ClosedLoop, simulate_serving
from perfsim.sim.lengths import LengthDist, parse_length


def request_efficiency(candidates: Mapping[str, tuple[object, LengthDist | str | int]], hw, *,
                       concurrency: int = 64, prompt_len: LengthDist | str | int = 1024,
                       num_requests: int = 512, decoding=None, seed: int = 0,
                       runtime: RuntimeLike = DEFAULT_RUNTIME) -> pd.DataFrame:
    """One row per candidate `label -> (model, output lengths)`: tokens/s and requests/s at the
    same client concurrency under `runtime`, and both relative to the first candidate."""
    if not candidates:
        raise PerfsimInputError("request_efficiency needs at least one candidate "
                                "(label -> (model, output lengths)).")
    prompts = parse_length(prompt_len, "prompt_len")
    rows = []
    for label, (model, lengths) in candidates.items():
        outputs = parse_length(lengths, f"{label} output lengths")
        workload = ClosedLoop(concurrency, prompt_len=prompts, output_len=outputs, num_requests=num_requests)
        summary = simulate_serving(model, hw, workload, decoding=decoding, seed=seed,
                                   runtime=runtime).summary()
        rows.append({"candidate": label, "model": getattr(model, "id", str(model)),
                     "mean_output_tokens": outputs.mean(), "tokens_per_s": summary["throughput_tok_s"],
                     "requests_per_s": summary["requests_per_s"], "e2e_p50_s": summary["e2e_p50_s"],
                     "e2e_p90_s": summary["e2e_p90_s"], "tpot_p50_s": summary["tpot_p50_s"]})
    frame = pd.DataFrame(rows)
    frame["tokens_per_s_vs_first"] = frame.tokens_per_s / frame.tokens_per_s.iloc[0]
    frame["requests_per_s_vs_first"] = frame.requests_per_s / frame.requests_per_s.iloc[0]
    return frame
