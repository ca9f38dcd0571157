"""Human formatting: units that scale with magnitude, separators, no scientific notation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from perfsim.dashboard import fmt


@pytest.mark.parametrize("seconds, text", [
    (55.16035, "55.2 s"), (1.0, "1.00 s"), (0.02316, "23.2 ms"), (0.000025800, "25.8 µs"),
    (1234.6, "1,235 s"), (0.99999, "1.00 s"), (0.00099999, "1.00 ms"), (0.0, "0 µs"),
])
def test_duration_picks_the_unit_by_magnitude(seconds, text):
    assert fmt.duration(seconds) == text


@given(st.floats(min_value=1e-9, max_value=1e6))
def test_duration_keeps_one_to_999_before_the_unit_below_a_thousand_seconds(seconds):
    number, unit = fmt.duration(seconds).split(" ")
    value = float(number.replace(",", ""))
    assert unit in ("s", "ms", "µs") and "e" not in number
    if unit != "s" or seconds < 999:
        assert 0.999 <= value < 1000 or unit == "µs"


@pytest.mark.parametrize("key, value, text", [
    ("ttft_p50_s", 55.16, "55.2 s"), ("throughput_tok_s", 12345.6, "12,346 tok/s"),
    ("requests_per_s", 0.5803, "0.580/s"), ("kv_used_fraction", 0.25, "25.0 %"),
    ("memory_bytes", 18.83e9, "18.8 GB"), ("iterations", 25800, "25,800"), ("decoding", "tidar", "tidar"),
])
def test_quantity_reads_the_unit_from_the_key(key, value, text):
    assert fmt.quantity(key, value) == text


def test_label_turns_keys_into_words():
    assert fmt.label("ttft_p50_s") == "TTFT p50"
    assert fmt.label("throughput_tok_s") == "throughput"
    assert fmt.label("kv_used_fraction") == "KV used"
