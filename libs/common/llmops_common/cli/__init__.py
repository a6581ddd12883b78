"""The `llmops` command line: `up`, `status` and `topics`; later issues add their own commands."""
