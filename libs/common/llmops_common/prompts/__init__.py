"""Prompts: the catalog every replica builds, sandboxed templates, the prompt file format, diffs."""
