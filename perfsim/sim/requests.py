"""A request's state inside the simulator (mutable, slotted: thousands live at once)."""

from __future__ import annotations

from collections.abc import Callable


class Request:
    """Token bookkeeping follows vLLM: `computed` tokens have KV in cache; a decoding request has
    prompt + generated tokens of which all but the last sampled one are computed."""

    __slots__ = ("rid", "arrival_s", "prompt_len", "output_len", "computed", "generated", "blocks",
                 "first_token_s", "last_token_s", "preemptions", "on_finish", "replica")

    def __init__(self, rid: int, arrival_s: float, prompt_len: int, output_len: int,
                 on_finish: Callable[[Request], None] | None = None):
        self.rid = rid
        self.arrival_s = arrival_s
        self.prompt_len = prompt_len
        self.output_len = output_len
        self.computed = 0
        self.generated = 0
        self.blocks = 0
        self.first_token_s = -1.0
        self.last_token_s = -1.0
        self.preemptions = 0
        self.on_finish = on_finish
        self.replica = -1

    @property
    def num_tokens(self) -> int:
        return self.prompt_len + self.generated
