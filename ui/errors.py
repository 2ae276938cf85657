"""The one place that turns a failure into the text a clerk reads."""

from __future__ import annotations

import logging

from terminal import messages
from terminal.api_client import ApiError

log = logging.getLogger(__name__)


def clerk_message(error: BaseException | str, lang: str, **fields: str) -> str:
    """Return what happened and what to do next, in the terminal's language.

    ``error`` is an exception from a background job or a key of ``terminal.messages``.
    Exceptions that are not ``ApiError`` are programmer errors: they are logged with their
    traceback and the clerk sees the generic advice.
    """
    language: messages.Language = "en" if lang == "en" else "ja"
    if isinstance(error, ApiError | str):
        return messages.message_for(error, language, **fields)
    log.error("unexpected failure shown to the clerk", exc_info=error)
    return messages.message_for(messages.UNKNOWN_ERROR, language)
