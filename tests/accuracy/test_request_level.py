"""Request-level efficiency: each model at its published trace length, requests/s = tokens/s / length."""

import pytest

from perfsim.accuracy.request_level import published_request_rate
from perfsim.errors import PerfsimInputError


def test_shorter_published_traces_win_per_request_even_at_a_lower_token_rate():
    r1 = published_request_rate("deepseek-r1-distill-qwen-7b", "h100-sxm", "aime24", runtime="vllm")
    dler = published_request_rate("dler-r1-7b", "h100-sxm", "aime24", runtime="vllm")
    assert (r1.mean_output_tokens, dler.mean_output_tokens) == (13241, 3230)
    assert dler.requests_per_s == pytest.approx(dler.tokens_per_s / 3230)
    # same architecture: the shorter trace fits more sequences, so the gain is at least the length ratio
    assert dler.batch >= r1.batch
    assert dler.requests_per_s / r1.requests_per_s >= 13241 / 3230
    assert dler.accuracy == 55.62


def test_missing_published_length_is_one_sentence():
    with pytest.raises(PerfsimInputError, match="no published mean output length of qwen3-8b on 'aime24'"):
        published_request_rate("qwen3-8b", "h100-sxm", "aime24")
