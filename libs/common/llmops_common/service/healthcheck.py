"""A container health check: exits 0 when this container's service answers `/readyz` with 200.

The image sets `SERVICE` to the service's name; the port comes from the same settings the service reads.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

from ..settings import SERVICE_NAMES, PlatformSettings


def main() -> int:
    """0 when the service in this container is ready, 1 otherwise."""
    service = os.environ.get("SERVICE", "")
    if service not in SERVICE_NAMES:
        print(f"SERVICE={service!r} names no service; expected one of {', '.join(SERVICE_NAMES)}", file=sys.stderr)
        return 1
    settings = PlatformSettings()
    url = f"http://127.0.0.1:{settings.port_of(service)}/readyz"
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:
        print(f"{service} not ready: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
