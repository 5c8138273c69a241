"""`acctsec investigate`: one account's verdict (in progress)."""
