"""On-chain data: clients per chain and the fund-flow trace."""
