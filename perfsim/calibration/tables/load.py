"""All mapped rows of one allowed system: every family, for the runtimes asked for."""

from __future__ import annotations

from typing import TYPE_CHECKING

from perfsim.calibration.tables import attention, comm, gdn, gemm, mla, mla_bmm, moe
from perfsim.calibration.tables.family import Family
from perfsim.calibration.tables.reader import TableSource, check_system

if TYPE_CHECKING:
    import pandas as pd

#: Mapped families, in fit order: memory-bound conv first (it moves memory.*), then GEMM, which
#: MoE builds on.
FAMILIES: dict[str, Family] = {"linear_attention": gdn.FAMILY, "gemm": gemm.FAMILY,
                               "attention": attention.FAMILY, "mla": mla.FAMILY, "mla_bmm": mla_bmm.FAMILY,
                               "moe": moe.FAMILY, "comm": comm.FAMILY}
#: The aiconfigurator-core release the committed figures were fitted from.
PACKAGE_VERSION = "0.12.0"
#: Device profile each allowed system prices with.
PROFILES = {"h100_sxm": "h100-sxm", "a100_sxm": "a100-sxm-80gb"}


def load_rows(source: TableSource, system: str, runtimes: tuple[str, ...]) -> pd.DataFrame:
    """Rows of every family for `runtimes` on `system` (newest table version of each), tagged with
    system, runtime, the aiconfigurator folder and the framework version read."""
    import pandas as pd

    check_system(system)
    frames = []
    for folder, family in FAMILIES.items():
        for runtime in runtimes:
            for filename in family.filenames:
                if (runtime == "nccl") != (filename == "nccl_perf.parquet"):
                    continue  # NCCL's table is its own runtime; it is in no runtime's folder
                raw, version = source.read(system, folder, runtime, filename)
                if raw.empty:
                    continue
                rows = family.rows(raw, runtime)
                frames.append(rows.assign(system=system, runtime=runtime, folder=folder, version=version,
                                          table=filename))
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True)


def load_csv(path: str, runtime: str, system: str = "csv") -> pd.DataFrame:
    """Rows from a CSV in aiconfigurator's own terms, for tables from anywhere else (vidur, your
    own runs). Columns: `folder` (one of FAMILIES: gemm, attention, moe, comm, linear_attention),
    `table` (the aiconfigurator file it stands for, e.g. gemm_perf.parquet), then that table's
    columns with `latency` in milliseconds; e.g. for GEMMs gemm_dtype (bfloat16, fp8, fp8_block),
    m, n, k, latency; for all-reduce op_name=all_reduce, allreduce_dtype, num_gpus,
    message_size (elements), latency. See each mapper's docstring for its columns. An optional
    `runtime` column selects this runtime's rows (benchmarks/data/aiconfigurator holds a sample)."""
    import pandas as pd

    raw = pd.read_csv(path)
    if "runtime" in raw:  # a CSV holding several runtimes' rows: this runtime's only
        raw = raw[raw["runtime"] == runtime]
    missing = {"folder", "table", "latency"} - set(raw.columns)
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))}; a table CSV needs "
                         f"folder, table, latency (ms) and the columns of that aiconfigurator table.")
    unknown = sorted(set(raw["folder"]) - set(FAMILIES))
    if unknown:
        raise ValueError(f"{path}: folder {unknown[0]!r} is not one of {', '.join(FAMILIES)}.")
    frames = []
    for (folder, table), group in raw.groupby(["folder", "table"]):
        mapped = FAMILIES[str(folder)].rows(group.dropna(axis=1, how="all"), runtime)
        frames.append(mapped.assign(system=system, runtime=runtime, folder=str(folder), version="csv",
                                    table=str(table)))
    return pd.concat(frames, ignore_index=True)
