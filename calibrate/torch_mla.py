"""The torch validation model's multi-head latent attention (DeepSeek-V2/V3), as perfsim prices it.

Parameters are the Hugging Face modeling code's (q_a_proj, q_a_layernorm, q_b_proj or q_proj;
kv_a_proj_with_mqa, kv_a_layernorm, kv_b_proj, o_proj; no biases), so counts equal
`perfsim.model_params`. The cache holds only the normalised KV latent and the RoPE'd shared key
per token. Decode (one new token) runs the weight-absorbed form: MQA over the latent with q_nope
mapped through kv_b_proj's key half and the output through its value half. Prefill runs the
expanded form: kv_b_proj decompresses K/V for every cached position, then SDPA (explicit mask after
cached tokens). YaRN's attention scaling (mscale) is left out: it changes values, not cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from perfsim.calibrate import torch_ops as ops
from perfsim.calibrate.torch_mixers import EPS, Step
from perfsim.layers.mla import MLASpec


@dataclass
class LatentCache:
    latent: Tensor  # [b, max_len, kv_lora_rank + qk_rope_head_dim], written at absolute positions


class MLAttention(nn.Module):
    def __init__(self, spec: MLASpec, hidden: int):
        super().__init__()
        self.h, self.nope, self.rope_dim = spec.num_heads, spec.qk_nope_head_dim, spec.qk_rope_head_dim
        self.rank, self.v = spec.kv_lora_rank, spec.v_head_dim
        self.scale = spec.qk_head_dim**-0.5
        q_out = self.h * spec.qk_head_dim
        # either q_proj alone, or the low-rank q_a_proj -> q_a_norm -> q_b_proj path
        self.q_proj: nn.Linear | None
        self.q_a_proj: nn.Linear | None
        self.q_a_norm: nn.Parameter | None
        self.q_b_proj: nn.Linear | None
        if spec.q_lora_rank is None:
            self.q_proj = nn.Linear(hidden, q_out, bias=False)
            self.q_a_proj = self.q_a_norm = self.q_b_proj = None
        else:
            self.q_proj = None
            self.q_a_proj = nn.Linear(hidden, spec.q_lora_rank, bias=False)
            self.q_a_norm = nn.Parameter(torch.empty(spec.q_lora_rank))
            self.q_b_proj = nn.Linear(spec.q_lora_rank, q_out, bias=False)
        self.kv_a_proj = nn.Linear(hidden, spec.latent_dim, bias=False)
        self.kv_a_norm = nn.Parameter(torch.empty(self.rank))
        self.kv_b_proj = nn.Linear(self.rank, self.h * (self.nope + self.v), bias=False)
        self.o_proj = nn.Linear(self.h * self.v, hidden, bias=False)

    def _init_own(self, gen, std):
        for p in (self.q_a_norm, self.kv_a_norm):
            if p is not None:
                p.fill_(1.0)

    def new_cache(self, batch: int, max_len: int, device, dtype) -> LatentCache:
        return LatentCache(torch.zeros(batch, max_len, self.rank + self.rope_dim, device=device, dtype=dtype))

    def _queries(self, x: Tensor) -> Tensor:
        if self.q_proj is not None:
            q = self.q_proj(x)
        else:
            assert self.q_a_proj is not None and self.q_a_norm is not None and self.q_b_proj is not None
            q = self.q_b_proj(ops.rms_norm(self.q_a_proj(x), self.q_a_norm, EPS))
        return q.unflatten(-1, (self.h, self.nope + self.rope_dim))  # [b, t, h, qk]

    def forward(self, x: Tensor, cache: LatentCache, step: Step) -> Tensor:
        b, t, _ = x.shape
        start, end = step.start, step.start + t
        cos, sin = step.rope[self.rope_dim]
        cos, sin = cos[start:end], sin[start:end]
        q_nope, q_pe = self._queries(x).split([self.nope, self.rope_dim], -1)
        q_pe = ops.apply_rope(q_pe, cos, sin)
        c, k_pe = self.kv_a_proj(x).split([self.rank, self.rope_dim], -1)
        k_pe = ops.apply_rope(k_pe.unsqueeze(2), cos, sin).squeeze(2)
        cache.latent[:, start:end] = torch.cat([ops.rms_norm(c, self.kv_a_norm, EPS), k_pe], -1)
        latent = cache.latent[:, :end]
        if t == 1:
            o = self._absorbed(q_nope, q_pe, latent)
        else:
            o = self._expanded(q_nope, q_pe, latent, step, x.device)
        return self.o_proj(o.reshape(b, t, self.h * self.v))

    def _absorbed(self, q_nope: Tensor, q_pe: Tensor, latent: Tensor) -> Tensor:
        """MQA over the latent: scores = (q_nope W_UK) c + q_pe k_pe, output W_UV (p c)."""
        w = self.kv_b_proj.weight.view(self.h, self.nope + self.v, self.rank)
        q_lat = torch.einsum("bthn,hnr->bhtr", q_nope, w[:, : self.nope])
        q = torch.cat([q_lat, q_pe.transpose(1, 2)], -1)  # [b, h, t, rank + rope]
        k = latent.unsqueeze(1)  # one KV head
        o = F.scaled_dot_product_attention(q, k, k[..., : self.rank], scale=self.scale, enable_gqa=True)
        return torch.einsum("bhtr,hvr->bthv", o, w[:, self.nope:])

    def _expanded(self, q_nope: Tensor, q_pe: Tensor, latent: Tensor, step: Step, device) -> Tensor:
        """kv_b_proj decompresses every cached position, then ordinary attention."""
        kv = self.kv_b_proj(latent[..., : self.rank]).unflatten(-1, (self.h, self.nope + self.v))
        k_nope, v = kv.split([self.nope, self.v], -1)
        k_pe = latent[..., self.rank:].unsqueeze(2).expand(-1, -1, self.h, -1)
        q = torch.cat([q_nope, q_pe], -1).transpose(1, 2)
        k = torch.cat([k_nope, k_pe], -1).transpose(1, 2)
        if step.start == 0:
            o = F.scaled_dot_product_attention(q, k, v.transpose(1, 2), is_causal=True, scale=self.scale)
        else:
            mask = step.mask(0, None, device)
            o = F.scaled_dot_product_attention(q, k, v.transpose(1, 2), attn_mask=mask, scale=self.scale)
        return o.transpose(1, 2)
