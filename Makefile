# Two set-up commands do everything on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run dashboard test typecheck bench wheel-check clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)  ## headline what-if report on the bundled models and devices
	$(BIN)/perfsim report

dashboard: $(STAMP)  ## the Streamlit what-if dashboard at http://localhost:8501
	$(BIN)/perfsim dashboard

test: $(STAMP)  ## the whole test suite
	$(BIN)/python -m pytest

typecheck: $(STAMP)  ## mypy over perfsim/ (settings in pyproject.toml's [tool.mypy])
	$(BIN)/mypy

bench: $(STAMP)  ## speed and fidelity benchmarks (print figures; never asserted in tests)
	$(BIN)/python benchmarks/bench_predict.py
	$(BIN)/python benchmarks/bench_scalar.py
	$(BIN)/python benchmarks/fidelity_h100.py
	$(BIN)/python benchmarks/paper_cases.py
	$(BIN)/python benchmarks/bench_serving.py
	$(BIN)/python benchmarks/fidelity_serving.py
	$(BIN)/python benchmarks/fidelity_trtllm.py
	$(BIN)/python benchmarks/fidelity_edge.py --held-out
	$(BIN)/python benchmarks/bench_rollout.py
	$(BIN)/python benchmarks/fidelity_calibration.py --runs 3
	$(BIN)/python benchmarks/bench_sweep.py

wheel-check: $(STAMP)  ## build the wheel, install it in a clean venv, run it from outside the repo
	rm -rf dist /tmp/perfsim-wheel-venv
	$(BIN)/python -m build --wheel -o dist . >/dev/null
	$(PY) -m venv /tmp/perfsim-wheel-venv
	/tmp/perfsim-wheel-venv/bin/pip install -q dist/*.whl
	cd /tmp && /tmp/perfsim-wheel-venv/bin/perfsim list hardware | grep -q h100-sxm
	cd /tmp && /tmp/perfsim-wheel-venv/bin/perfsim list models | grep -q llama-3.1-8b
	cd /tmp && /tmp/perfsim-wheel-venv/bin/perfsim list runtimes | grep -q vllm
	cd /tmp && /tmp/perfsim-wheel-venv/bin/perfsim predict -m qwen3-8b -h h100-sxm --json >/dev/null
	cd /tmp && /tmp/perfsim-wheel-venv/bin/python -c "import sys, perfsim; \
	bad = {'torch', 'streamlit', 'plotly', 'ray'} & set(sys.modules); assert not bad, bad; print('wheel ok')"
	cd /tmp && /tmp/perfsim-wheel-venv/bin/python -c "from perfsim.cli.dashboard import app_path; \
	p = app_path(); assert 'site-packages' in str(p), p; print('dashboard app in the wheel:', p)"
	# the core-only wheel (no extras) keeps the CLI's promise: usage errors and missing extras are one sentence
	for args in "predict --batch abc" "list gpus" "frobnicate" "search space.yaml" "dashboard"; do \
		(cd /tmp && $(CURDIR)/.ci/expect-usage-error /tmp/perfsim-wheel-venv/bin/perfsim $$args) || exit 1; done

clean:
	rm -rf $(VENV) dist build .pytest_cache
