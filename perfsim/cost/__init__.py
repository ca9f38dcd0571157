"""Pure cost functions: model + batch -> kernels (graph), step latency, parameters, memory
footprint, request-level predictions, vectorised workload grids and VLM prefill. No simpy."""
