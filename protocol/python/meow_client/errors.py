"""Exceptions raised by :mod:`meow_client`, each with a message that says what to change.

A learner rejects a peer with REFUSED (to a HELLO) or ERROR (to any other request); both carry an
error code of PROTOCOL.md section 6. :func:`rejection` maps a code to the most specific class
below, so callers can catch ``SpaceMismatch`` without comparing codes, while ``LearnerRejected``
still catches them all.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple, Type

from .wire import ErrorCode, MessageType


class MeowError(Exception):
    """Base class of every error this package raises on purpose (besides ``wire.WireError``)."""


class LearnerUnreachable(MeowError):
    """No reply from the learner within the timeout.

    nng dials in the background and retries, so a learner that is down, a wrong port and a
    firewall all look the same from here: silence. The message names the URL and the timeout.
    """

    def __init__(self, url: str, timeout: float, during: str = "HELLO"):
        super().__init__(
            f"no reply from the learner at {url} within {timeout:g} s (waiting for the reply to {during}); "
            f"check that meow-learner is running and listening on that URL, or pass a larger timeout")
        self.url = url
        self.timeout = timeout
        self.during = during


class ProtocolViolation(MeowError):
    """The learner sent a frame that does not decode, or not the reply the request expects."""


class LearnerRejected(MeowError):
    """The learner answered REFUSED or ERROR.

    ``code`` is the protocol error code, ``text`` the learner's sentence, ``reply`` the message
    type that carried it (REFUSED or ERROR), ``retry_after_ms`` its retry hint (0: do not retry).
    """

    advice = ""

    def __init__(self, code: int, text: str, *, reply: MessageType, retry_after_ms: int = 0,
                 learner_versions: Optional[Tuple[Tuple[int, int], Tuple[int, int]]] = None,
                 failed_type: int = 0):
        self.code = code
        self.text = text
        self.reply = reply
        self.retry_after_ms = retry_after_ms
        self.learner_versions = learner_versions
        self.failed_type = failed_type
        try:
            name = ErrorCode(code).name
        except ValueError:
            name = f"code {code}"
        said = f": {text.rstrip('.')}" if text else ""
        advice = f" {self.advice}" if self.advice else ""
        super().__init__(f"learner answered {reply.name} {name}{said}.{advice}")


class SpaceMismatch(LearnerRejected):
    """The observation or action space differs from the learner's (``SPACE_MISMATCH``)."""

    advice = ("Connect with the same observation and action spaces (shape and bounds) as the "
              "environment the learner trains on.")


class AuthFailed(LearnerRejected):
    """Wrong or missing auth token (``AUTH_FAILED``)."""

    advice = "Pass the learner's token (token=... or --token); it must match the learner's exactly."


class VersionMismatch(LearnerRejected):
    """No protocol version in common with the learner (``UNSUPPORTED_VERSION``)."""

    advice = "Use a meow_client release that speaks the learner's protocol version."

    def __init__(self, code: int, text: str, **kw: Any):
        versions = kw.get("learner_versions")
        if versions is not None:
            (a, b), (c, d) = versions
            text = f"{text} (the learner speaks {a}.{b} to {c}.{d}; this client speaks 1.0)".lstrip()
        super().__init__(code, text, **kw)


class LearnerFull(LearnerRejected):
    """The learner serves as many peers as it allows (``FULL``)."""

    advice = "Retry later or raise the learner's peer limit."


class NotWelcome(LearnerRejected):
    """The learner does not know this peer (``NOT_WELCOME``), e.g. after it restarted."""

    advice = "Say HELLO again (the client does this once by itself)."


class LearnerShuttingDown(LearnerRejected):
    """The learner is stopping (``SHUTTING_DOWN``)."""

    advice = "Reconnect once the learner runs again."


_BY_CODE: Dict[int, Type[LearnerRejected]] = {
    ErrorCode.SPACE_MISMATCH: SpaceMismatch,
    ErrorCode.AUTH_FAILED: AuthFailed,
    ErrorCode.UNSUPPORTED_VERSION: VersionMismatch,
    ErrorCode.FULL: LearnerFull,
    ErrorCode.NOT_WELCOME: NotWelcome,
    ErrorCode.SHUTTING_DOWN: LearnerShuttingDown,
}


def rejection(code: int, text: str, **kw: Any) -> LearnerRejected:
    """The most specific :class:`LearnerRejected` subclass for ``code``."""
    return _BY_CODE.get(code, LearnerRejected)(code, text, **kw)


class EpisodeStateError(MeowError, ValueError):
    """An episode call out of order (e.g. two ``get_action`` without ``log_step`` in between)."""
