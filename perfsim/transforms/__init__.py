"""Architecture transformations (Model -> Model) and variant model files; see base.py."""

from perfsim.transforms.attention import ContextLength, KVHeads, RemoveAttention, SlidingWindow
from perfsim.transforms.base import TRANSFORMS, Transform, applied, apply_transforms, make_transform
from perfsim.transforms.dtypes import FP8_W8A8, ActivationDType, KVCacheDType, WeightDType
from perfsim.transforms.elastic import ElasticSubmodel
from perfsim.transforms.ffn import FFNFusion, FFNWidth
from perfsim.transforms.moe import LatentMoE, PruneExperts, TopK

__all__ = [
    "FP8_W8A8",
    "TRANSFORMS",
    "ActivationDType",
    "ContextLength",
    "ElasticSubmodel",
    "FFNFusion",
    "FFNWidth",
    "KVCacheDType",
    "KVHeads",
    "LatentMoE",
    "PruneExperts",
    "RemoveAttention",
    "SlidingWindow",
    "TopK",
    "Transform",
    "WeightDType",
    "applied",
    "apply_transforms",
    "make_transform",
]
