"""Runtime host-cost fitting over benchmarks/data/runtime_measurements.csv, split by concern:
`rows` (which public rows are used and how their settings map onto perfsim), `pricing` (perfsim's
kernel-only price of one row) and `report` (tables and the runtime YAML host block). The entry
point is benchmarks/fit_runtime_host.py."""
