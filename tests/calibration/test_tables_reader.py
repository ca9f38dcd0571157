"""The table reader refuses every system but the allowed ones and reads by exact path."""

import io
import zipfile

import pandas as pd
import pytest

from perfsim.calibration.tables.reader import ALLOWED_SYSTEMS, TableSource, check_system

_ROOT = "aiconfigurator_core/systems/data"


def _wheel(tmp_path, files: dict[str, pd.DataFrame]):
    path = tmp_path / "aiconfigurator_core-0.12.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for name, frame in files.items():
            buffer = io.BytesIO()
            frame.to_parquet(buffer)
            wheel.writestr(f"{_ROOT}/{name}", buffer.getvalue())
    return path


@pytest.mark.parametrize("system", ["h200_sxm", "b200_sxm", "gb200", "l40s", "l4", "silicon_sample.csv",
                                    "../h200_sxm", "h100_sxm/../h200_sxm", ""])
def test_other_systems_are_refused_in_one_sentence(tmp_path, system):
    with pytest.raises(ValueError, match="is not allowed: only h100_sxm, a100_sxm") as exc:
        check_system(system)
    assert exc.value.args[0].count(". ") == 0 and "held-out" in exc.value.args[0]
    source = TableSource(_wheel(tmp_path, {}))
    with pytest.raises(ValueError, match="is not allowed"):
        source.read(system, "gemm", "vllm", "gemm_perf.parquet")


def test_allowed_systems_are_exactly_h100_and_a100():
    assert ALLOWED_SYSTEMS == ("h100_sxm", "a100_sxm")


def test_reads_the_collection_version_and_never_another_system(tmp_path):
    gemm = pd.DataFrame({"m": [1], "latency": [0.01]})
    path = _wheel(tmp_path, {
        "h100_sxm/gemm/vllm/0.9.0/gemm_perf.parquet": gemm.assign(m=9),
        "h100_sxm/gemm/vllm/0.24.0/gemm_perf.parquet": gemm.assign(m=24),
        "h100_sxm/moe/vllm/0.24.0/moe_perf.parquet": gemm.assign(m=124),
        "h100_sxm/moe/vllm/0.25.0rc1/moe_perf.parquet": gemm.assign(m=125),
        "h200_sxm/gemm/vllm/0.30.0/gemm_perf.parquet": gemm.assign(m=-1),
    })
    source = TableSource(path)
    assert source.versions("h100_sxm", "gemm", "vllm", "gemm_perf.parquet") == ["0.9.0", "0.24.0"]
    frame, version = source.read("h100_sxm", "gemm", "vllm", "gemm_perf.parquet")
    assert (version, int(frame["m"].iloc[0])) == ("0.24.0", 24)
    frame, version = source.read("h100_sxm", "moe", "vllm", "moe_perf.parquet")
    assert version == "0.24.0", "a partial later re-collection is not preferred over the main one"
    empty, version = source.read("a100_sxm", "gemm", "vllm", "gemm_perf.parquet")
    assert empty.empty and version == ""


def test_missing_source_is_one_sentence(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        TableSource.locate(tmp_path / "nope.whl")
