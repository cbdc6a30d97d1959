"""The rule for a network's labels, as Docker takes them, used by the pages and the API alike.

Docker refuses an empty label name (`docker network create --label =x` says "empty name"); the
rest are limits the portal sets so a label stays something a person can read and Docker can store:
no spaces or control characters in a name, no control characters in a value, sensible lengths.
"""

from __future__ import annotations

import unicodedata

from .errors import ServiceError

LABEL_KEY_MAX_LENGTH = 128
LABEL_VALUE_MAX_LENGTH = 1024
LABELS_MAX_COUNT = 64


def _has_control(text: str) -> bool:
    return any(unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") for char in text)


def _refuse(code: str, message: str) -> ServiceError:
    return ServiceError(code, message, field="labels")


def labels_check(labels) -> dict[str, str]:
    """`labels` as given, or a ServiceError whose sentence names the first label that Docker would not take."""
    labels = labels or {}
    if not isinstance(labels, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items()):
        raise _refuse("bad_labels", "Labels are pairs of text, such as team=payments.")
    if len(labels) > LABELS_MAX_COUNT:
        raise _refuse("too_many_labels", f"A network takes at most {LABELS_MAX_COUNT} labels; this has {len(labels)}.")
    for key, value in labels.items():
        if not key.strip():
            raise _refuse("bad_label_key", "A label needs a name before its =, such as team=payments.")
        shown = key[:40] + ("…" if len(key) > 40 else "")
        if len(key) > LABEL_KEY_MAX_LENGTH:
            raise _refuse(
                "bad_label_key",
                f'The label name "{shown}" is {len(key):,} characters long; '
                f"use at most {LABEL_KEY_MAX_LENGTH}, such as com.example.team.",
            )
        if "=" in key or any(char.isspace() for char in key) or _has_control(key):
            raise _refuse(
                "bad_label_key",
                f'The label name "{shown.encode("unicode_escape").decode()}" has a space, an = or a control '
                "character; use letters, digits, dots and hyphens, such as com.example.team.",
            )
        if len(value) > LABEL_VALUE_MAX_LENGTH:
            raise _refuse(
                "bad_label_value",
                f'The value of label "{shown}" is {len(value):,} characters long; use at most {LABEL_VALUE_MAX_LENGTH}.',
            )
        if _has_control(value):
            raise _refuse(
                "bad_label_value",
                f'The value of label "{shown}" has a control character (such as a tab or a line break); remove it.',
            )
    return labels
