"""FFN edits: per-layer width (Puzzle) and FFN Fusion.

FFN Fusion (arXiv 2503.18908): once attention is gone from a run of blocks, the FFNs in it
read nearly the same residual stream, so n sequential FFNs become one FFN of width sum(I_i)
reading one normed input. Weights are the same matrices side by side (parameters change only
by the n-1 pre-norms dropped); the step launches one set of larger GEMMs instead of n
sequential ones, and under tensor parallelism one all-reduce instead of n.
"""

from __future__ import annotations

from dataclasses import dataclass

from perfsim.errors import PerfsimInputError
from perfsim.spec.model import MLPSpec, ModelSpec, OperatorSpec
from perfsim.transforms.base import Transform, register_transform
from perfsim.transforms.layout import map_operators, positions, rebuild


@register_transform("ffn_width")
@dataclass(frozen=True)
class FFNWidth(Transform):
    """Set the intermediate width of the chosen dense FFN sublayers (indices among FFNs)."""

    intermediate_size: int
    layers: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        self.require_positive_int("intermediate_size")

    def apply(self, model: ModelSpec) -> ModelSpec:
        return map_operators(model, MLPSpec,
                             lambda s: s.model_copy(update={"intermediate_size": self.intermediate_size}),
                             f"i{self.intermediate_size}", self.layers, "ffn_width layers")


@register_transform("ffn_fusion")
@dataclass(frozen=True)
class FFNFusion(Transform):
    """Fuse runs of directly consecutive FFN sublayers into one wide FFN.

    `groups` lists inclusive [first, last] FFN indices to fuse; without it every maximal run of
    at least two adjacent FFNs is fused, split into pieces of at most `max_group` FFNs.
    """

    groups: tuple[tuple[int, int], ...] | None = None
    max_group: int | None = None

    def __post_init__(self) -> None:
        if self.groups is not None:
            try:
                groups = tuple((int(a), int(b)) for a, b in self.groups)
            except (TypeError, ValueError):
                raise PerfsimInputError("ffn_fusion: groups must be a list of [first, last] FFN "
                                        "indices.") from None
            if any(b <= a for a, b in groups):
                shown = [list(g) for g in groups]
                raise PerfsimInputError(f"ffn_fusion: every group needs first < last (got {shown}).")
            object.__setattr__(self, "groups", groups)
        if self.max_group is not None and (not isinstance(self.max_group, int) or self.max_group < 2):
            raise PerfsimInputError(f"ffn_fusion: max_group must be an integer >= 2 (got "
                                    f"{self.max_group!r}).")

    def _groups(self, model: ModelSpec, ffn: list[int]) -> list[list[int]]:
        if self.groups is not None:
            out = []
            for a, b in self.groups:
                if b >= len(ffn):
                    raise PerfsimInputError(
                        f"ffn_fusion: group [{a}, {b}] out of range; {model.id} has {len(ffn)} FFN sublayers."
                    )
                pos = ffn[a: b + 1]
                if pos[-1] - pos[0] != len(pos) - 1:
                    raise PerfsimInputError(f"ffn_fusion: FFNs {a}..{b} of {model.id} are not consecutive "
                                            "sublayers (a token mixer sits between them).")
                out.append(pos)
            return out
        runs: list[list[int]] = []
        for p in ffn:
            if runs and runs[-1][-1] == p - 1:
                runs[-1].append(p)
            else:
                runs.append([p])
        size = self.max_group or max(len(r) for r in runs)
        return [run[i: i + size] for run in runs for i in range(0, len(run),
                                                                size) if len(run[i: i + size]) > 1]

    def apply(self, model: ModelSpec) -> ModelSpec:
        ffn = positions(model, MLPSpec, None, "ffn_fusion")
        if not ffn:
            return model
        groups = self._groups(model, ffn)
        taken = [p for g in groups for p in g]
        if len(taken) != len(set(taken)):
            raise PerfsimInputError("ffn_fusion: groups overlap.")
        first = {g[0]: g for g in groups}
        names, specs = model.sublayer_names, model.sublayers
        sequence: list[tuple[str, OperatorSpec]] = []
        for pos, (name, spec) in enumerate(zip(names, specs, strict=True)):
            if pos in first:
                parts = [_as_mlp(specs[p]) for p in first[pos]]
                if len({(s.activation, s.bias) for s in parts}) > 1:
                    raise PerfsimInputError(f"ffn_fusion: FFNs at sublayers {first[pos]} of {model.id} "
                                            f"differ in "
                                            "activation or bias and cannot be fused.")
                fused = MLPSpec(intermediate_size=sum(s.intermediate_size for s in parts),
                                activation=parts[0].activation, bias=parts[0].bias)
                sequence.append((name, fused))
            elif pos not in taken:
                sequence.append((name, spec))
        return rebuild(model, sequence, "fused") if groups else model


def _as_mlp(spec: OperatorSpec) -> MLPSpec:
    """A fusion group's sublayer, which `positions(model, MLPSpec, ...)` chose as a dense FFN."""
    assert isinstance(spec, MLPSpec)
    return spec
