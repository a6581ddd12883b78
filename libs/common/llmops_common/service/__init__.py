"""The frame every service runs in: its HTTP app, health endpoints, logs and process lifecycle."""
