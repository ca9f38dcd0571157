"""Multi-iteration stretches of the serving engine for strategies with random tokens per step."""

import numpy as np

import perfsim
from perfsim.decoding import Speculative

LLAMA, H100 = "llama-3.1-8b", "h100-sxm"


def test_sampled_speculative_stretches_keep_the_expected_tokens_per_iteration():
    """Stochastic strategies advance several iterations per event; the number of verify
    iterations must still match the expected accepted tokens."""
    eagle = Speculative(k=3, acceptance=0.7, draft="eagle")
    outputs = np.full(64, 400)
    result = perfsim.simulate_serving(LLAMA, H100, perfsim.sim.Batch(np.full(64, 128), outputs),
                                      decoding=eagle, seed=3)
    assert (result.requests.output_tokens == 400).all()
    decode_iterations = result.iterations - 1  # one prefill iteration admits the whole batch
    # the batch runs until its slowest member: max over 64 requests of iterations to 399 tokens
    assert 399 / eagle.expected_tokens() < decode_iterations < 1.25 * 399 / eagle.expected_tokens()
