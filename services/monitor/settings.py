"""Settings of the monitor, read from the environment with the `LLMOPS_` prefix."""

from __future__ import annotations

from typing import ClassVar

from llmops_common.settings import ServiceSettings


class Settings(ServiceSettings):
    """The monitor's settings: the platform's shared ones, and later its own."""

    service_name: ClassVar[str] = "monitor"
