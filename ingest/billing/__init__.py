"""Billing ingest: native cloud exports and rate cards mapped into the FOCUS `costs` ledger."""
