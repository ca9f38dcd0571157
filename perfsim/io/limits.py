"""Upper bounds on every size a user can give (files, command line, API): far above any real
model or deployment, and low enough that a typo (an extra zero or three) is one sentence instead
of a run that never ends, an int64 overflow or a cost table that fills memory.

Plain constants with no imports, so the command line's `--help` can name them without loading
pydantic; the schemas (perfsim.spec) and the CLI options (perfsim.cli) both read them from here.
"""

#: Largest value of any one size field of a description (16.7 M): above every real width, head
#: count, vocabulary or context length, and far below where int64 products in the cost model overflow.
MAX_SIZE = 2**24
#: Most sublayers (ops after `repeat`) one model may have: published models have a few hundred.
MAX_SUBLAYERS = 10_000
#: Largest tensor-parallel degree (the biggest NVLink domains hold 72 to 576 GPUs).
MAX_TENSOR_PARALLEL = 4096
#: Largest host cost per step, kernel or sequence (seconds); real ones are micro- to milliseconds.
MAX_HOST_COST_S = 10.0
#: Sequences in one batch (predict, frontier).
MAX_BATCH = 2**20
#: Requests or clients in one simulation.
MAX_REQUESTS = 10_000_000
#: Request arrival rate of an open-loop workload (requests per second).
MAX_RATE_PER_S = 1_000_000
#: Model replicas behind a router.
MAX_REPLICAS = 4096
#: Engine sequence limit (vLLM's max_num_seqs is 256 to 1024 in practice).
MAX_SEQS = 65_536
#: Tokens per engine iteration (vLLM's max_num_batched_tokens is 2k to 64k in practice).
MAX_BATCHED_TOKENS = 2**21
#: Random seeds (numpy takes any non-negative integer; 32 bits is what every front end shows).
MAX_SEED = 2**32 - 1
#: GPUs in one pool (rollout).
MAX_GPUS = 1_000_000
#: RL steps, search trials.
MAX_STEPS = 100_000
