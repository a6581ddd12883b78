"""The prompt registry: versioned prompts with movable labels, event-sourced on `llmops.prompts`."""
