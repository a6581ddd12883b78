"""Sends a message that cannot be handled to its consumer group's dead-letter topic, untouched."""

from __future__ import annotations

from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker

from ..topics import dead_letter_topic

MAX_REASON_CHARS = 2000


async def send_to_dead_letter(
    broker: KafkaBroker, group_id: str, record: ConsumerRecord[bytes, bytes], error: BaseException
) -> None:
    """Publishes the original key, value and headers, plus headers saying why and where it came from.

    Header values that are not UTF-8 are passed on with U+FFFD in place of the bad bytes.
    """
    headers = {name: (value or b"").decode(errors="replace") for name, value in record.headers}
    headers.update(
        {
            "dlq_error_class": type(error).__name__,
            "dlq_reason": str(error)[:MAX_REASON_CHARS] or type(error).__name__,
            "dlq_topic": record.topic,
            "dlq_partition": str(record.partition),
            "dlq_offset": str(record.offset),
            "dlq_group": group_id,
        }
    )
    await broker.publish(record.value, topic=dead_letter_topic(group_id), key=record.key, headers=headers)
