"""meow_client: talk to a meow learner from Python.

For now the package holds the wire codec (``meow_client.wire``), written from
``protocol/PROTOCOL.md``; the client API and the Gymnasium bridge come later.
"""

from . import wire

__all__ = ["wire"]
__version__ = "0.1.0"
