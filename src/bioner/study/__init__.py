"""One experiment's metrics (the aggregate stage) and the study across experiments: the grid of configurations,
grouping and the report."""
