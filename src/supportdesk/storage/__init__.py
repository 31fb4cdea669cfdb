"""Storage: the unit-of-work contract and its adapters."""
