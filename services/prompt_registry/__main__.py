"""Runs the prompt registry as its own process: `python -m services.prompt_registry`."""

from llmops_common.service.serve import run_service

from .app import create_app
from .settings import Settings

if __name__ == "__main__":
    run_service(Settings, create_app)
