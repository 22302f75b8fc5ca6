"""Bringing telemetry and bills into the tierwise store, which this package also owns."""
