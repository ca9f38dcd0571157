"""The quality hook: each strategy owns its accuracy factor (no isinstance chain elsewhere)."""

from dataclasses import dataclass

import pytest

from perfsim.accuracy import PUBLISHED_POINTS, DecodingQuality
from perfsim.decoding import (
    Autoregressive,
    BlockDiffusion,
    DecodingStrategy,
    QualityPoint,
    Speculative,
    TiDAR,
    registered_decodings,
)
from perfsim.errors import PerfsimInputError


@dataclass(frozen=True)
class _Parallel(DecodingStrategy):
    """A strategy defined outside perfsim (not registered, to keep the registry clean)."""

    name = "parallel_test"
    quality_points = (
        QualityPoint("parallel_test", 1.0, 1.0, "a"),
        QualityPoint("parallel_test", 3.0, 0.8, "b"),
    )
    tokens: float = 2.0

    def expected_tokens(self) -> float:
        return self.tokens


def test_every_registered_strategy_states_its_quality():
    for name, cls in registered_decodings().items():
        assert cls.lossless or cls.quality_points, f"{name} has no quality model"


def test_lossless_strategies_keep_the_score():
    for strategy in (Autoregressive(), Speculative(k=4, acceptance=0.7)):
        assert strategy.relative_accuracy() == (1.0, f"{strategy.name}: lossless")


def test_new_strategy_needs_no_edit_outside_its_module():
    assert _Parallel().relative_accuracy()[0] == pytest.approx(0.9)
    assert DecodingQuality().factor(_Parallel(tokens=5.0))[0] == 0.8  # clamped at the last point
    mine = (QualityPoint("parallel_test", 1.0, 0.5, "mine"),)
    assert DecodingQuality(points=mine).factor(_Parallel())[0] == 0.5


def test_published_points_are_collected_from_the_strategies():
    assert PUBLISHED_POINTS == BlockDiffusion.quality_points + TiDAR.quality_points
    explicit = DecodingQuality(points=PUBLISHED_POINTS)
    for strategy in (BlockDiffusion(tokens_per_step=1.7), TiDAR(tokens_per_forward=7.9)):
        assert explicit.factor(strategy) == DecodingQuality().factor(strategy)


def test_subclass_shares_its_parents_points():
    @dataclass(frozen=True)
    class Variant(BlockDiffusion):
        name = "block_diffusion_variant"

    assert Variant(tokens_per_step=2.6).relative_accuracy()[0] == pytest.approx(60.3 / 59.6)
    with pytest.raises(PerfsimInputError, match="no published quality points for decoding 'tidar'"):
        TiDAR(tokens_per_forward=8.0).relative_accuracy(points=())
