"""FastStream parser and decoder hooks that leave a record's bytes for the platform to read.

FastStream decodes every header as UTF-8 and every body as JSON before a handler runs. One bad byte
then raises inside FastStream, where no handler can dead-letter the record, and its partition stalls.
These hooks hand the untouched `ConsumerRecord`s to our handlers, which decode them with
`decode_headers` and `decode_event` and dead-letter what fails.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

from aiokafka import ConsumerRecord
from faststream.message import StreamMessage

RawMessage: TypeAlias = ConsumerRecord[bytes, bytes] | tuple[ConsumerRecord[bytes, bytes], ...]
DefaultParser: TypeAlias = Callable[[RawMessage], Awaitable[StreamMessage[Any]]]


async def parse_tolerating_bad_headers(message: RawMessage, default_parser: DefaultParser) -> StreamMessage[Any]:
    """FastStream's own parsing; when a header is not UTF-8 (or null), it parses copies without headers.

    Either way FastStream builds its message (and its consumer for commits and seeks), and the
    handler gets the records exactly as they arrived. After the fallback the message's decoded
    headers are empty (see `decoded_headers`), so the handler decodes them itself and dead-letters
    the bad record.
    """
    try:
        return await default_parser(message)
    except (UnicodeDecodeError, AttributeError):
        records = message if isinstance(message, tuple) else (message,)
        headerless = tuple(dataclasses.replace(record, headers=()) for record in records)
        parsed = await default_parser(headerless if isinstance(message, tuple) else headerless[0])
        parsed.raw_message = message
        parsed.headers, parsed.batch_headers = {}, []
        return parsed


def decoded_headers(message: StreamMessage[Any]) -> list[dict[str, str] | None]:
    """Each record's headers as FastStream decoded them, or None where the handler must decode them."""
    raw = message.raw_message
    if isinstance(raw, tuple):
        return list(message.batch_headers) if len(message.batch_headers) == len(raw) else [None] * len(raw)
    return [message.headers or None]


async def skip_decoding(message: StreamMessage[Any]) -> None:
    """No body decoding: the handler validates the bytes against the event's model itself."""
