"""The model server: the OpenAI-compatible inference service that hot-loads promoted adapters."""
