"""Batch runs: many accounts' verdicts from one pass over a source, resumable, in parallel."""
