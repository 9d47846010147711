"""Structured log lines: one JSON object per line, each carrying the request id of the request it serves.

The request id lives in a context variable set by the request-id middleware; tasks created while
serving a request (a shared graph run, for instance) inherit it. Log only ids, paths, statuses and
durations here — never headers, bodies or settings, so a key cannot leak into the logs. As a last net,
each line is redacted of the configured secrets before it is written (a traceback of an upstream error
logged by mistake, say).
"""

from __future__ import annotations

import atexit
import json
import logging
import logging.handlers
import queue
import sys
import time
from collections.abc import Iterable
from contextvars import ContextVar
from typing import Any

from tools.redaction import Redactor

__all__ = ["JsonFormatter", "configure_logging", "request_id_var"]

request_id_var: ContextVar[str | None] = ContextVar("blueprint_request_id", default=None)

# attributes every LogRecord has; anything else was passed with ``extra=`` and is worth printing
_STANDARD = set(vars(logging.LogRecord("x", 0, "x", 0, "x", None, None))) | {"message", "asctime", "taskName"}
_MARK = "_blueprint_json_handler"


class JsonFormatter(logging.Formatter):
    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self.redactor = redactor or Redactor([])

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,  # several uvicorn workers write to one stream
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in line:
                line[key] = value
        if record.exc_info:
            line["trace"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["trace"] = record.exc_text
        return self.redactor.text(json.dumps(line, default=str, ensure_ascii=False))


class _Enqueue(logging.handlers.QueueHandler):
    """Hands records to a background thread that formats and writes them: a request never waits on a
    ``write`` to stderr. The request id lives in a context variable, so it is pinned to the record here."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)  # tracebacks do not travel
        return record


_listener: logging.handlers.QueueListener | None = None
_formatter: JsonFormatter | None = None
_secrets: set[str] = set()  # of every app configured in this process: one stream serves them all


def configure_logging(level: int = logging.INFO, *, secrets: Iterable[str] = ()) -> None:
    """Send the service's own loggers (``server``, ``graph``, ``tools``) to stderr as JSON lines, written
    by one background thread (``QueueListener``), with ``secrets`` masked in every line.

    Idempotent: a second app in the same process (tests) does not add a second handler; its secrets are
    masked too.
    """
    global _listener, _formatter
    if not set(secrets) <= _secrets:
        _secrets.update(secrets)
        if _formatter is not None:
            _formatter.redactor = Redactor(_secrets)
    if _listener is None:
        handler = logging.StreamHandler(sys.stderr)
        _formatter = JsonFormatter(Redactor(_secrets))
        handler.setFormatter(_formatter)
        _listener = logging.handlers.QueueListener(queue.SimpleQueue(), handler)
        _listener.start()
        atexit.register(_listener.stop)  # flush what is queued when the process ends
    for name in ("server", "graph", "tools"):
        logger = logging.getLogger(name)
        if any(getattr(h, _MARK, False) for h in logger.handlers):
            continue
        enqueue = _Enqueue(_listener.queue)
        setattr(enqueue, _MARK, True)
        logger.addHandler(enqueue)
        logger.setLevel(level)
        logger.propagate = True  # pytest's caplog still sees the records
