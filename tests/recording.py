"""Stand-ins that record, for tests: a requests adapter in place of the wire, a log handler.

>>> session, adapter = recording_session()
>>> DirectusClient(url, static_token="t", session=session).read_items("articles")
>>> adapter.sent[0].path_url, adapter.options[0]["verify"]
"""

from __future__ import annotations

import logging
from typing import Any

import requests

__all__ = ["LogRecords", "RecordingAdapter", "recording_session"]


class RecordingAdapter(requests.adapters.BaseAdapter):
    """Record each request that would be sent (and the send options); answer 200 ``body``."""

    def __init__(self, body: bytes = b'{"data": {}}') -> None:
        super().__init__()
        self.body = body
        self.sent: list[requests.PreparedRequest] = []
        self.options: list[dict[str, Any]] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.sent.append(request)
        self.options.append(kwargs)
        response = requests.Response()
        response.status_code = 200
        response._content = self.body
        response.request = request
        response.url = request.url or ""
        return response

    def close(self) -> None:
        pass


def recording_session(body: bytes = b'{"data": {}}') -> tuple[requests.Session, RecordingAdapter]:
    """Return a session whose http:// and https:// requests go to a new RecordingAdapter."""
    session = requests.Session()
    adapter = RecordingAdapter(body)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session, adapter


class LogRecords(logging.Handler):
    """Keep every record it is handed (from DEBUG up)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self) -> list[str]:
        """Return the formatted messages, oldest first."""
        return [record.getMessage() for record in self.records]
