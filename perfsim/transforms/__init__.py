"""Architecture transformations (Model -> Model): the one way to edit a model (variant files, the
dashboard and `HybridDesign` all use them); see base.py and README.md. Every module here is imported
with the package, so a transform added as a new module registers itself."""


from perfsim.registry import import_submodules
from perfsim.transforms.attention import ContextLength, KVHeads, RemoveAttention, SlidingWindow
from perfsim.transforms.base import TRANSFORMS, Transform, applied, apply_transforms, make_transform
from perfsim.transforms.depth import Depth, num_layers
from perfsim.transforms.dtypes import FP8_W8A8, ActivationDType, KVCacheDType, WeightDType
from perfsim.transforms.elastic import ElasticSubmodel
from perfsim.transforms.ffn import FFNFusion, FFNWidth
from perfsim.transforms.hybridise import Hybridise
from perfsim.transforms.moe import LatentMoE, PruneExperts, TopK
from perfsim.transforms.sizing import REPLACEMENTS, replacement, scaled
from perfsim.transforms.width import Width

import_submodules(__name__, __path__)  # new modules register themselves

__all__ = [
    "FP8_W8A8",
    "REPLACEMENTS",
    "TRANSFORMS",
    "ActivationDType",
    "ContextLength",
    "Depth",
    "ElasticSubmodel",
    "FFNFusion",
    "FFNWidth",
    "Hybridise",
    "KVCacheDType",
    "KVHeads",
    "LatentMoE",
    "PruneExperts",
    "RemoveAttention",
    "SlidingWindow",
    "TopK",
    "Transform",
    "WeightDType",
    "Width",
    "applied",
    "apply_transforms",
    "make_transform",
    "num_layers",
    "replacement",
    "scaled",
]
