"""URL spelling of control values (perfsim.dashboard.urlparams): a link reads back to the value."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from perfsim.dashboard.urlparams import NOUNS, parse, spell

IDS = st.text(st.sampled_from("abcxyz0123456789-._"), min_size=1, max_size=12)
VALUES = st.one_of(
    st.integers(-10**9, 10**9), st.booleans(), IDS, st.lists(IDS, max_size=5),
    st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)),
    st.decimals(-1e6, 1e6, places=6, allow_nan=False).map(float),
)


@given(VALUES)
def test_every_value_reads_back_from_its_spelling(value):
    assert parse(spell(value), type(value)) == value


@pytest.mark.parametrize(("text", "kind"), [("lots", float), ("2.5", int), ("yes", bool), ("7", tuple),
                                            ("1-2-3", tuple)])
def test_a_misspelt_parameter_is_a_value_error_with_a_noun(text, kind):
    with pytest.raises(ValueError):
        parse(text, kind)
    assert kind in NOUNS
