"""Intelligence about IPs, networks, devices and addresses, offline first."""
