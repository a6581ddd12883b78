"""Shared library of the LLMOps platform: events, the Kafka layer, stores and the service frame."""

__version__ = "0.1.0"
