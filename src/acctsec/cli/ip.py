"""`acctsec ip`: enrichment of one IP address (owned by the IP-intel work; placeholder)."""
