"""Output formats of reports: terminal, JSON."""
