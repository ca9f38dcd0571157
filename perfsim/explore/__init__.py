"""Design exploration over the cost core: generated designs, design spaces, sweeps, search,
frontiers, executors, model comparison, request-level efficiency and the headline report."""
