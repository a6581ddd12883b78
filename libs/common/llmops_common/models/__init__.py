"""Base models: the shipped corpus, the tiny default model, and where the configured base model lives."""
