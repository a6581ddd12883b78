"""API keys: issued and revoked as events, held in a key ring, checked on every HTTP request."""
