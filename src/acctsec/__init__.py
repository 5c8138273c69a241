"""acctsec: investigation toolkit for account-security and risk-operations analysts."""

__version__ = "0.1.0"
