"""`perfsim.explore.compare` / `perfsim compare`: per-token and request-level speed-ups, memory, max batch."""

import json
import subprocess
import sys

import pytest

from perfsim import apply_transforms
from perfsim.explore.compare import compare, gain
from perfsim.transforms import KVCacheDType


def test_fp8_kv_doubles_max_batch_and_identity_has_no_gain():
    base = "llama-3.1-8b"
    fp8 = apply_transforms(base, [KVCacheDType("fp8")], id="llama-fp8kv")
    frame = compare(base, fp8, "h100-sxm", prompt_len=4096, output_len=4096)
    assert 1.9 < gain(frame, "max batch at full context") < 2.6 and gain(frame, "KV cache per sequence") == 2
    assert gain(frame, "throughput per GPU") > 1.2
    same = compare(base, base, "h100-sxm", prompt_len=512, output_len=512)
    assert (same["gain"].dropna() == 1).all()


def test_request_level_gain_counts_longer_answers():
    """A variant that writes twice the tokens per request loses half its request rate."""
    frame = compare("qwen3-8b", "qwen3-8b", "h100-sxm", prompt_len=512, output_len=512,
                    variant_output_len=1024,
                    batch=8)
    assert gain(frame, "request rate per GPU") < 0.55 < gain(frame, "throughput per GPU")


def run(*args):
    return subprocess.run([sys.executable, "-m", "perfsim", *args], capture_output=True, text=True)


def test_cli_compare_json():
    out = run("compare", "gpt-oss-120b", "gpt-oss-puzzle-88b", "-h", "h100-sxm", "--workload", "64k/64k",
              "--weight-dtype", "fp4", "--format", "json")
    assert out.returncode == 0, out.stderr
    rows = {r["metric"]: r for r in json.loads(out.stdout)}
    assert rows["throughput per GPU"]["gain"] > 2 and rows["parameters"]["gpt-oss-puzzle-88b"] < 90


@pytest.mark.parametrize("args, needle", [
    (("--workload", "4k"), "use PROMPT/OUTPUT token counts"),
    (("--workload", "4x/4k"), "use PROMPT/OUTPUT token counts"),
    ((), "does not fit"),  # gpt-oss-120b in bf16 on one H100
])
def test_cli_compare_errors_are_one_sentence(args, needle):
    out = run("compare", "gpt-oss-120b", "gpt-oss-puzzle-88b", "-h", "h100-sxm", *args)
    assert out.returncode == 2 and needle in out.stderr and "Traceback" not in out.stderr


def test_compare_uses_the_shared_max_batch_throughput_with_its_own_choices():
    """compare's throughput row is max_batch_throughput at context prompt + output, capped at
    MAX_BATCH, best of the powers of two; the report's is the same definition at the max batch."""
    import perfsim
    from perfsim.cost.max_batch import max_batch_throughput
    from perfsim.explore.compare import MAX_BATCH

    model, hw = perfsim.load_model("qwen3-8b"), perfsim.load_hardware("a10g")
    frame = compare(model, model, hw, prompt_len=512, output_len=256)
    peak = max_batch_throughput(model, hw, 512, 256, context_len=768, batch_ceiling=MAX_BATCH,
                                powers_of_two=True)
    assert frame.loc[frame.metric == "batch used for throughput", "qwen3-8b"].iloc[0] == peak.batch
    assert frame.loc[frame.metric == "throughput per GPU", "qwen3-8b"].iloc[0] == peak.result.tokens_per_s
    at_max = max_batch_throughput(model, hw, 512, 256)
    assert at_max.batch == at_max.memory.max_batch
