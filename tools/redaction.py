"""Redaction of configured secrets from everything an upstream hands back to us.

A provider or an LLM endpoint may echo a key anywhere: in an error's message, its ``type`` or
``error_code``, a nested field, a text/plain body, or a data value (a company description). Rather
than cleaning the fields we happen to copy, the clients pass whole answers and whole exceptions
through one :class:`Redactor` at their boundary, so no field can be missed:

* :meth:`Redactor.value` — a decoded JSON answer, recursively (keys and values);
* :meth:`Redactor.error` — an exception and every exception chained to it (message, ``args``,
  ``details`` and any other text, dict or list attribute), so tracebacks in logs are clean too.

Each secret is matched case-insensitively (a provider code may be upper- or lower-cased on the way)
and in the forms it travels in: as written, URL-encoded, and base64 with and without the ``:`` of
Basic credentials.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from pydantic import SecretStr

__all__ = ["MASK", "MIN_SECRET_LENGTH", "Redactor", "secret_forms"]

MASK = "***"
# Shorter "secrets" are not credentials (nothing is protected by three characters), and masking every
# occurrence of them would mangle ordinary provider data.
MIN_SECRET_LENGTH = 4
_JSON_ESCAPED = re.compile(r'["\\\x00-\x1f\x7f]')  # what json.dumps(ensure_ascii=False) writes differently


def secret_forms(secret: str) -> list[str]:
    """``secret`` and the encodings it is sent in (URL-encoded; base64 of ``secret:`` and of ``secret``)."""
    forms = {secret, quote(secret, safe="")}
    for raw in (f"{secret}:", secret):
        encoded = base64.b64encode(raw.encode()).decode()
        forms |= {encoded, encoded.rstrip("=")}
    return sorted(forms, key=len, reverse=True)  # longest first: a form never half-masks a longer one


class Redactor:
    """Replaces every configured secret, in any of its forms, with ``***``."""

    def __init__(self, secrets: Iterable[str | SecretStr | None]) -> None:
        forms: set[str] = set()
        for secret in secrets:
            value = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
            if value and len(value) >= MIN_SECRET_LENGTH:
                forms.update(secret_forms(value))
        ordered = sorted(forms, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered)), re.IGNORECASE) if ordered else None
        # substring tests over case-folded text find a secret far faster than the case-blind regex, which
        # then only runs where one was found
        self._folded = [form.casefold() for form in ordered]
        # a secret JSON would escape could hide in a serialised answer: only without one is the one-pass
        # check over the whole answer exact
        self._json_exact = not any(_JSON_ESCAPED.search(form) for form in forms)

    def __repr__(self) -> str:  # never the secrets
        return "Redactor()"

    def __bool__(self) -> bool:
        return self._pattern is not None

    def text(self, text: str) -> str:
        """``text`` with every secret masked."""
        if self._pattern is None or not self._may_hold(text):
            return text
        return self._pattern.sub(MASK, text)

    def _may_hold(self, text: str) -> bool:
        folded = text.casefold()
        return any(form in folded for form in self._folded)

    def value(self, value: Any) -> Any:
        """A JSON-like value (dicts, lists, strings, scalars) with every string in it redacted, keys too."""
        if self._pattern is None:
            return value
        if isinstance(value, dict | list) and self._json_exact:
            # the usual answer holds no secret: one pass over its JSON instead of a walk of every string
            try:
                if not self._may_hold(json.dumps(value, ensure_ascii=False)):
                    return value
            except (TypeError, ValueError):  # not plain JSON: walk it
                pass
        return self._walk(value)

    def _walk(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self._walk(k): self._walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._walk(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self._walk(v) for v in value)
        return value

    def error(self, exc: BaseException) -> BaseException:
        """Redact ``exc`` and its chain in place (its text reaches warnings, envelopes and tracebacks);
        returns ``exc`` for ``raise``."""
        if self._pattern is None:
            return exc
        seen: set[int] = set()
        current: BaseException | None = exc
        pending: list[BaseException] = []
        while current is not None:
            if id(current) not in seen:
                seen.add(id(current))
                self._scrub(current)
                pending += [e for e in (current.__cause__, current.__context__) if e is not None]
            current = pending.pop() if pending else None
        return exc

    def _scrub(self, exc: BaseException) -> None:
        exc.args = self.value(exc.args)
        for name, attr in list(vars(exc).items()):
            # only plain text and JSON-like containers: requests, responses and other objects stay as they
            # are (they hold no text of ours that an error message is built from)
            if isinstance(attr, str | dict | list | tuple):
                setattr(exc, name, self.value(attr))
