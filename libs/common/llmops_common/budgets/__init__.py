"""Enforced budgets, the reading side: which tenants the monitor has blocked, and a 429 for them."""
