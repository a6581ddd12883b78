"""A Tansu broker that a test may take down and bring back on the same port.

By default Tansu keeps its topics in memory, so the broker that comes back is empty. `s3_endpoint` keeps
them in an S3 bucket instead (a moto server in tests), so a restart loses nothing, as a Kafka broker's
restart loses nothing: the broker outage a production cluster has.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from llmops_common.local_kafka import free_port, tansu_binary, wait_for_port
from llmops_common.process_stop import stop_process

BUCKET = "tansu"
REGION = "eu-west-2"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}


class TansuBroker:
    """One Tansu process at a time on `port`, started and stopped at will."""

    def __init__(self, port: int, log_file: Path, s3_endpoint: str | None = None) -> None:
        self.port = port
        self._log_file = log_file
        self._s3_endpoint = s3_endpoint
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        """Whether the broker process runs."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Starts the broker and waits until it accepts connections."""
        url = f"tcp://127.0.0.1:{self.port}"
        command = [tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url]
        env = dict(os.environ)
        if self._s3_endpoint is not None:
            command += ["--storage-engine", f"s3://{BUCKET}/"]
            env |= {**CREDENTIALS, "AWS_ENDPOINT": self._s3_endpoint, "AWS_ALLOW_HTTP": "true"}
        with self._log_file.open("ab") as output:
            self._process = subprocess.Popen(
                command, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            wait_for_port("127.0.0.1", self.port, timeout=15)
        except TimeoutError:
            self.stop()
            raise

    def pause(self) -> None:
        """Freezes the broker (SIGSTOP): connections stay open, and nothing it is asked is answered."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Lets a paused broker go on (SIGCONT)."""
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        """Stops the broker (SIGKILL after 10 s)."""
        if self._process is not None:
            stop_process(self._process, grace_seconds=10)
            self._process = None


@contextmanager
def s3_bucket_server(log_file: Path) -> Iterator[str]:
    """A moto S3 server on a free port with the broker's bucket; yields its endpoint URL."""
    import boto3

    port = free_port()
    with log_file.open("ab") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-p", str(port)], stdout=output, stderr=subprocess.STDOUT
        )
    try:
        wait_for_port("127.0.0.1", port, timeout=30)
        endpoint = f"http://127.0.0.1:{port}"
        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=REGION,
        )
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        yield endpoint
    finally:
        stop_process(server, grace_seconds=5)
