"""Frontier figure helpers: plain 1-2-5 log ticks and label positions without overlaps."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from perfsim.dashboard.frontier_fig import label_boxes, log_ticks, place_labels


def test_log_ticks_are_plain_numbers_covering_the_range():
    values, texts = log_ticks(0.6, 14.0)
    assert texts == ["0.5", "1", "2", "5", "10", "20"]
    assert values == pytest.approx([0.5, 1, 2, 5, 10, 20])
    assert log_ticks(0.002, 0.004)[1] == ["0.001", "0.002", "0.005", "0.01"]


@given(st.floats(min_value=1e-4, max_value=1e4), st.floats(min_value=1.0, max_value=1e3))
def test_log_ticks_bracket_the_data(low, ratio):
    values, texts = log_ticks(low, low * ratio)
    assert min(values) <= low and max(values) >= low * ratio
    assert all("e" not in t for t in texts) and len(values) == len(texts)


def test_labels_of_crowded_points_take_different_positions():
    x = np.array([1.0, 1.01, 1.02, 5.0])
    y = np.array([50.0, 50.1, 50.2, 70.0])
    positions = place_labels(x, y, ["design-a", "design-b", "design-c", "far"])
    assert len(set(positions[:3])) == 3 and positions[3] == "top center"


@given(st.lists(st.tuples(st.floats(0.01, 100), st.floats(0, 100),
                          st.text("abcdefgh-", min_size=1, max_size=20)), min_size=1, max_size=25))
def test_placed_labels_never_overlap(points):
    x = np.array([p[0] for p in points])
    y = np.array([p[1] for p in points])
    texts = [p[2] for p in points]
    positions = place_labels(x, y, texts)
    boxes = label_boxes(x, y, texts, positions)
    assert positions[int(np.argmin(x))] is not None  # the first point always gets its label
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not (a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3])
