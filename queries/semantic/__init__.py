"""The semantic model: measures and dimensions defined once (model.toml), compiled to SQL and run (metric.py)."""
