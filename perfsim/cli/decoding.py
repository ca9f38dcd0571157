"""Decoding-strategy options shared by the commands that generate tokens (predict, simulate,
rollout): one flag set, one place that turns it into a strategy."""

from __future__ import annotations

import typer

from perfsim.cli.output import fail

OPT_DECODING = typer.Option("autoregressive",
                         help="autoregressive | speculative | mtp | eagle | diffusion | tidar")
OPT_DRAFT = typer.Option("eagle", help="speculative drafter: a model id, eagle or mtp")
OPT_K = typer.Option(4, "--k", help="speculative draft length")
OPT_ACCEPTANCE = typer.Option(None, help="per-token draft acceptance rate")
OPT_MEAN_ACCEPTED = typer.Option(None, help="measured tokens per verify step")
OPT_BLOCK = typer.Option(32, help="diffusion block size")
OPT_SUB_BLOCK = typer.Option(8, help="diffusion sub-block size (query tokens per forward)")
OPT_TOKENS_PER_STEP = typer.Option(None, help="diffusion tokens finalised per step")
OPT_STEPS_PER_BLOCK = typer.Option(None, help="diffusion denoising steps per block")
OPT_NO_KV = typer.Option(False, help="diffusion: recompute the whole sequence each step")
OPT_DRAFT_LEN = typer.Option(16, help="TiDAR draft length")
OPT_TOKENS_PER_FORWARD = typer.Option(None, help="TiDAR tokens per forward (T/NFE)")
OPT_TREE_WIDTH = typer.Option(1, help="speculative tree drafts: candidates kept per level (1 = chain)")


def decoding_strategy(decoding, draft, k, acceptance, mean_accepted, block_size, sub_block, tokens_per_step,
                      steps_per_block, no_kv_cache, draft_len, tokens_per_forward, tree_width=1):
    from perfsim.decoding import BlockDiffusion, Speculative, TiDAR, make_decoding

    if decoding in ("speculative", "mtp", "eagle"):
        return Speculative(k=k, acceptance=acceptance, mean_accepted_tokens=mean_accepted,
                           draft=decoding if decoding != "speculative" else draft, tree_width=tree_width)
    if decoding in ("diffusion", "block_diffusion"):
        return BlockDiffusion(block_size=block_size, sub_block_size=sub_block,
                              tokens_per_step=tokens_per_step, steps_per_block=steps_per_block,
                              kv_cache=not no_kv_cache)
    if decoding == "tidar":
        if tokens_per_forward is None:
            fail("--decoding tidar needs --tokens-per-forward (the measured T/NFE).")
        return TiDAR(draft_len=draft_len, tokens_per_forward=tokens_per_forward)
    return make_decoding(decoding)
