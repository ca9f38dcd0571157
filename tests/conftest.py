import pytest

import perfsim


@pytest.fixture(scope="session")
def h100():
    return perfsim.load_hardware("h100-sxm")


@pytest.fixture(scope="session")
def llama8b():
    return perfsim.load_model("llama-3.1-8b")


@pytest.fixture
def write_yaml(tmp_path):
    """Write a dict (or raw text) as a YAML file and return its path."""
    import yaml

    def _write(data, name="case.yaml"):
        path = tmp_path / name
        path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
        return path

    return _write
