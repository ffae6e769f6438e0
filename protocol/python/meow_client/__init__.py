"""meow_client: talk to a meow learner from Python.

``meow_client.wire`` is the codec of ``protocol/PROTOCOL.md``; ``meow_client.connect`` opens a
simulator connection (the learner chooses the actions, see :mod:`meow_client.client`);
``python -m meow_client.gym`` runs a Gymnasium environment as such a simulator;
``meow_client.Policy.load("policy.safetensors")`` runs a trained policy in numpy alone.
"""

from . import wire
from ._version import __version__
from .client import Client, ClientStats, EpisodeSummary, as_space, connect, rescale_action
from .errors import (AuthFailed, EpisodeStateError, LearnerFull, LearnerRejected, LearnerShuttingDown,
                     LearnerUnreachable, MeowError, NotWelcome, ProtocolViolation, SpaceMismatch,
                     VersionMismatch)
from .policy import Policy, PolicyFileError

__all__ = [
    "__version__", "wire", "connect", "Client", "ClientStats", "EpisodeSummary", "as_space", "rescale_action",
    "MeowError", "LearnerUnreachable", "LearnerRejected", "SpaceMismatch", "AuthFailed", "VersionMismatch",
    "LearnerFull", "NotWelcome", "LearnerShuttingDown", "ProtocolViolation", "EpisodeStateError",
    "Policy", "PolicyFileError",
]
