"""Inference engines behind one small interface: vLLM (primary) and transformers (portable fallback)."""
