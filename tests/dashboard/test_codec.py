"""Link payloads: whatever is packed comes back exactly, and damaged text is one sentence."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from perfsim.dashboard.codec import pack, unpack

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=20)


@given(json_values)
def test_pack_round_trips_and_is_link_safe(value):
    text = pack(value)
    assert unpack(text) == value
    assert all(c.isalnum() or c in "-_" for c in text)


@pytest.mark.parametrize("text", ["", "not base64 at all!", pack("x")[:-3] + "AAA", "eJw"])
def test_damaged_text_is_a_value_error(text):
    with pytest.raises(ValueError, match="not a perfsim link payload"):
        unpack(text)
