"""Architecture transformations (Model -> Model) and variant model files; see base.py."""

from perfsim.transforms.attention import ContextLength, KVHeads, RemoveAttention, SlidingWindow
from perfsim.transforms.base import TRANSFORMS, Transform, applied, apply_transforms, make_transform
from perfsim.transforms.dtypes import ActivationDType, KVCacheDType, WeightDType
from perfsim.transforms.elastic import ElasticSubmodel
from perfsim.transforms.ffn import FFNFusion, FFNWidth
from perfsim.transforms.moe import LatentMoE, PruneExperts, TopK

__all__ = [
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
