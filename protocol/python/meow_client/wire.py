"""Pure-Python codec of the meow wire protocol, version 1.0.

Written from ``protocol/PROTOCOL.md``; section numbers below refer to it. A frame is one nng
message: ``encode(frame)`` returns its bytes, ``decode(data)`` parses them or raises
:class:`WireError` carrying the protocol's error code and, where there is one, the field name.

Float columns are numpy arrays; an ``f32`` column is a plain copy of the frame's bytes.
"""

from __future__ import annotations

import enum
import struct
import zlib
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Type, Union

import numpy as np
import numpy.typing as npt

MAGIC = b"MEOW"
MAJOR = 1
MINOR = 0
HEADER_SIZE = 24
MUST_UNDERSTAND_FLAGS = 0x0000FFFF
NO_SEED = 0xFFFFFFFFFFFFFFFF
FLT_MAX = float(np.finfo(np.float32).max)

_HEADER = struct.Struct("<4sBBHIIII")


# --------------------------------------------------------------------------------------------
# Registries (sections 3, 4.3, 6)
# --------------------------------------------------------------------------------------------


class MessageType(enum.IntEnum):
    HELLO = 0x0001
    WELCOME = 0x0002
    REFUSED = 0x0003
    GOODBYE = 0x0004
    ACK = 0x0005
    ERROR = 0x0006
    HEARTBEAT = 0x0007
    HEARTBEAT_REPLY = 0x0008
    TRANSITIONS = 0x0010
    TRANSITIONS_ACK = 0x0011
    EPISODE_STATS = 0x0012
    WEIGHTS_REQUEST = 0x0020
    WEIGHTS = 0x0021
    ACTION_REQUEST = 0x0030
    ACTION_REPLY = 0x0031


class ErrorCode(enum.IntEnum):
    TRUNCATED = 1
    BAD_MAGIC = 2
    UNSUPPORTED_VERSION = 3
    UNKNOWN_MESSAGE_TYPE = 4
    LENGTH_OVER_LIMIT = 5
    NON_FINITE = 6
    BAD_CHECKSUM = 7
    INVALID_VALUE = 8
    MALFORMED = 9
    SPACE_MISMATCH = 10
    AUTH_FAILED = 11
    DUPLICATE = 12
    NOT_WELCOME = 13
    TRY_LATER = 14
    INTERNAL = 15
    UNEXPECTED_MESSAGE = 16
    FULL = 17
    STALE_VERSION = 18
    SHUTTING_DOWN = 19


class Role(enum.IntEnum):
    ACTOR = 1
    SIMULATOR = 2
    OBSERVER = 3


class DType(enum.IntEnum):
    FLOAT32 = 1
    FLOAT64 = 2
    FLOAT16 = 3
    BFLOAT16 = 4
    INT32 = 5
    INT64 = 6
    UINT8 = 7


DTYPE_SIZE = {DType.FLOAT32: 4, DType.FLOAT64: 8, DType.FLOAT16: 2, DType.BFLOAT16: 2,
              DType.INT32: 4, DType.INT64: 8, DType.UINT8: 1}


class GoodbyeReason(enum.IntEnum):
    DONE = 0
    SHUTTING_DOWN = 1
    ERROR = 2
    RESTARTING = 3


class TransitionsStatus(enum.IntEnum):
    ACCEPTED = 0
    DUPLICATE = 1
    TRY_LATER = 2


class ActionEvent(enum.IntEnum):
    START = 0
    STEP = 1
    END = 2


TERMINATED = 1
TRUNCATED = 2
DONE_FLAG_BITS = TERMINATED | TRUNCATED
CAP_VALUE_ESTIMATES = 1
CAP_EVALUATION = 2
WEIGHTS_ONLY_IF_NEWER = 1
ACTION_DETERMINISTIC = 1
ACTION_WANT_VALUES = 2
ACTION_HAS_VALUES = 1


class WireError(Exception):
    """A frame that cannot be decoded (or a message that cannot be encoded).

    ``code`` is the protocol error code a learner would answer with; ``field`` the dotted field
    path (``transitions.rewards``) where the spec names one; ``index`` the offending element.
    """

    def __init__(self, code: ErrorCode, message: str, field: Optional[str] = None, index: Optional[int] = None):
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.field = field
        self.index = index


@dataclass
class Limits:
    """Receiver limits of section 7; every length is checked against them before allocation."""

    max_frame_bytes: int = 16 << 20
    max_transitions_per_batch: int = 8192
    max_observation_elements: int = 4096
    max_action_elements: int = 256
    max_string_bytes: int = 1024
    max_rank: int = 8
    max_tensor_count: int = 1024
    max_chunk_bytes: int = 8 << 20
    max_weights_bytes: int = 1 << 30
    max_episodes_per_message: int = 4096
    max_action_rows: int = 4096
    max_extensions: int = 64


# --------------------------------------------------------------------------------------------
# Messages (section 5)
# --------------------------------------------------------------------------------------------


def _f32(values: npt.ArrayLike) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.float32)


@dataclass
class Space:
    """A float32 box (section 4.1); ``low``/``high`` are flat, ``prod(shape)`` elements."""

    shape: Tuple[int, ...]
    low: np.ndarray
    high: np.ndarray

    @classmethod
    def box(cls, shape: Sequence[int], low: float, high: float) -> "Space":
        n = int(np.prod(shape, dtype=np.int64)) if len(shape) else 1
        return cls(tuple(shape), np.full(n, low, np.float32), np.full(n, high, np.float32))


@dataclass
class Hello:
    role: int
    min_version: Tuple[int, int]
    max_version: Tuple[int, int]
    capabilities: int
    actor_id: int
    run_id: int
    client_name: str
    client_version: str
    auth_token: bytes
    env_id: str
    observation_space: Space
    action_space: Space


@dataclass
class Welcome:
    version: Tuple[int, int]
    capabilities: int
    learner_run_id: int
    policy_version: int
    warmup_transitions: int
    batch_hint: int
    max_batch: int
    upload_interval_ms: int
    weights_chunk_bytes: int
    weights_refresh_steps: int
    heartbeat_interval_ms: int
    max_frame_bytes: int
    env_id: str
    preset: str


@dataclass
class Refused:
    code: int
    retry_after_ms: int
    min_version: Tuple[int, int]
    max_version: Tuple[int, int]
    text: str


@dataclass
class Goodbye:
    reason: int
    text: str = ""


@dataclass
class Ack:
    acked_type: int


@dataclass
class Error:
    code: int
    failed_type: int
    retry_after_ms: int
    text: str


@dataclass
class Heartbeat:
    actor_id: int
    queue_length: int
    run_id: int
    policy_version: int
    env_steps: int
    episodes: int
    batches_sent: int
    batches_acked: int
    transitions_dropped: int


@dataclass
class HeartbeatReply:
    learner_run_id: int
    policy_version: int
    updates: int
    replay_size: int


@dataclass
class Transitions:
    """A batch: 2-D ``observations``/``next_observations`` (n, d_o), ``actions`` (n, d_a)."""

    actor_id: int
    run_id: int
    seq: int
    policy_version: int
    episode_ids: np.ndarray
    step_indices: np.ndarray
    observations: np.ndarray
    next_observations: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    done_flags: np.ndarray


@dataclass
class TransitionsAck:
    seq: int
    policy_version: int
    retry_after_ms: int
    status: int


@dataclass
class EpisodeStats:
    actor_id: int
    run_id: int
    episode_ids: np.ndarray
    seeds: np.ndarray
    returns: np.ndarray
    seconds: np.ndarray
    lengths: np.ndarray


@dataclass
class WeightsRequest:
    held_version: int
    fetch_version: int
    chunk_index: int
    only_if_newer: bool


@dataclass
class TensorEntry:
    name: str
    dtype: int
    shape: Tuple[int, ...]
    offset: int

    def byte_count(self) -> int:
        n = DTYPE_SIZE[DType(self.dtype)]
        for d in self.shape:
            n *= d
        return n


@dataclass
class Weights:
    version: int
    total_bytes: int
    chunk_offset: int
    chunk_index: int
    chunk_count: int
    tensors: List[TensorEntry]
    data: bytes


@dataclass
class ActionRequest:
    """Rows of events; ``observations`` is (n, d_o); ``action_dim`` is d_a expected back."""

    deterministic: bool
    want_values: bool
    action_dim: int
    episode_ids: np.ndarray
    observations: np.ndarray
    prev_rewards: np.ndarray
    events: np.ndarray
    prev_done_flags: np.ndarray


@dataclass
class ActionReply:
    policy_version: int
    actions: np.ndarray
    values: Optional[np.ndarray] = None


Message = Union[Hello, Welcome, Refused, Goodbye, Ack, Error, Heartbeat, HeartbeatReply, Transitions,
                TransitionsAck, EpisodeStats, WeightsRequest, Weights, ActionRequest, ActionReply]

MESSAGE_TYPES = {
    Hello: MessageType.HELLO, Welcome: MessageType.WELCOME, Refused: MessageType.REFUSED,
    Goodbye: MessageType.GOODBYE, Ack: MessageType.ACK, Error: MessageType.ERROR,
    Heartbeat: MessageType.HEARTBEAT, HeartbeatReply: MessageType.HEARTBEAT_REPLY,
    Transitions: MessageType.TRANSITIONS, TransitionsAck: MessageType.TRANSITIONS_ACK,
    EpisodeStats: MessageType.EPISODE_STATS, WeightsRequest: MessageType.WEIGHTS_REQUEST,
    Weights: MessageType.WEIGHTS, ActionRequest: MessageType.ACTION_REQUEST,
    ActionReply: MessageType.ACTION_REPLY,
}


@dataclass
class Frame:
    """One nng message: a message plus header fields and its extension records (tag, value)."""

    message: Message
    request_id: int = 0
    flags: int = 0
    minor: int = MINOR
    extensions: List[Tuple[int, bytes]] = field(default_factory=list)

    @property
    def type(self) -> MessageType:
        return MESSAGE_TYPES[type(self.message)]


# --------------------------------------------------------------------------------------------
# Rules shared by both directions
# --------------------------------------------------------------------------------------------


def _limit(value: int, limit: int, name: str) -> None:
    if value > limit:
        raise WireError(ErrorCode.LENGTH_OVER_LIMIT, f"{name} claims {value}, over the limit of {limit}", name)


def _finite(a: np.ndarray, name: str) -> None:
    bad = ~np.isfinite(a.reshape(-1))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise WireError(ErrorCode.NON_FINITE, f"{name}[{i}] is not finite", name, i)


def _invalid(name: str, index: int = 0) -> WireError:
    return WireError(ErrorCode.INVALID_VALUE, f"{name}[{index}] is outside its allowed values", name, index)


def _malformed(name: str, why: str) -> WireError:
    return WireError(ErrorCode.MALFORMED, f"{name} is malformed: {why}", name)


def _first(mask: np.ndarray) -> Optional[int]:
    hits = np.flatnonzero(mask.reshape(-1))
    return int(hits[0]) if hits.size else None


def _unit(a: np.ndarray, name: str) -> None:
    _finite(a, name)
    i = _first((a < -1) | (a > 1))
    if i is not None:
        raise _invalid(name, i)


def _done(a: np.ndarray, name: str) -> None:
    i = _first((np.asarray(a, dtype=np.uint8) & np.uint8(0xFF ^ DONE_FLAG_BITS)) != 0)
    if i is not None:
        raise _invalid(name, i)


def _nonneg(a: np.ndarray, name: str) -> None:
    i = _first(a < 0)
    if i is not None:
        raise _invalid(name, i)


def _ordered(low: np.ndarray, high: np.ndarray, name: str) -> None:
    i = _first(low > high)
    if i is not None:
        raise _invalid(name, i)


def _tensor_inside(t: TensorEntry, total: int, index: int) -> None:
    if t.offset + t.byte_count() > total:
        raise _malformed("weights.tensors", f"tensor {index} lies outside the blob")


def _placement(w: Weights) -> None:
    if w.chunk_count == 0:
        if w.chunk_index or w.total_bytes or w.chunk_offset or w.tensors or len(w.data):
            raise _malformed("weights.chunk_count", "an unchanged reply carries nothing")
        return
    if w.chunk_index >= w.chunk_count:
        raise _malformed("weights.chunk_index", f"chunk {w.chunk_index} of {w.chunk_count}")
    if w.chunk_offset + len(w.data) > w.total_bytes:
        raise _malformed("weights.chunk_offset", "chunk data run past the blob")


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


class _Reader:
    """Consumes a payload; a short read raises TRUNCATED and consumes nothing."""

    __slots__ = ("buf", "pos", "end")

    def __init__(self, buf: memoryview, pos: int, end: int):
        self.buf, self.pos, self.end = buf, pos, end

    def remaining(self) -> int:
        return self.end - self.pos

    def need(self, n: int) -> None:
        """TRUNCATED unless `n` more bytes remain: a message's columns are sized from its counts
        and checked as a whole right after the last count (PROTOCOL.md 2.1), before any is read."""
        if n > self.end - self.pos:
            raise WireError(ErrorCode.TRUNCATED, f"needed {n} bytes, {self.end - self.pos} available")

    def take(self, n: int) -> memoryview:
        if n > self.end - self.pos:
            raise WireError(ErrorCode.TRUNCATED, f"needed {n} bytes, {self.end - self.pos} available")
        view = self.buf[self.pos:self.pos + n]
        self.pos += n
        return view

    def scalar(self, fmt: str) -> Any:
        s = struct.Struct("<" + fmt)
        return s.unpack(self.take(s.size))[0]

    def unsigned(self, fmt: str) -> int:
        return int(self.scalar(fmt))

    def u8(self) -> int:
        return self.unsigned("B")

    def u16(self) -> int:
        return self.unsigned("H")

    def u32(self) -> int:
        return self.unsigned("I")

    def u64(self) -> int:
        return self.unsigned("Q")

    def column(self, dtype: str, count: int) -> np.ndarray:
        dt = np.dtype(dtype)
        raw = self.take(count * dt.itemsize)
        values: np.ndarray = np.frombuffer(raw, dtype=dt, count=count).copy()
        return values

    def count(self, name: str, limit: int) -> int:
        n = self.u32()
        _limit(n, limit, name)
        return n

    def dim(self, name: str, limit: int) -> int:
        n = self.count(name, limit)
        if n < 1:
            raise _invalid(name)
        return n

    def raw_bytes(self, name: str, limits: Limits) -> bytes:
        n = self.u16()
        _limit(n, limits.max_string_bytes, name)
        return bytes(self.take(n))

    def string(self, name: str, limits: Limits) -> str:
        raw = self.raw_bytes(name, limits)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _malformed(name, "not valid UTF-8") from None

    def finite(self, name: str, count: int) -> np.ndarray:
        a = self.column("<f4", count)
        _finite(a, name)
        return a

    def enum(self, kind: Type[enum.IntEnum], raw: int, name: str) -> int:
        try:
            return int(kind(raw))
        except ValueError:
            raise _invalid(name) from None

    def space(self, name: str, max_elements: int, limits: Limits) -> Space:
        if self.u8() != DType.FLOAT32:
            raise _invalid(name + ".dtype")
        rank = self.u8()
        _limit(rank, limits.max_rank, name + ".rank")
        shape = []
        n = 1
        for i in range(rank):
            d = self.u32()
            if d < 1:
                raise _invalid(name + ".shape", i)
            shape.append(d)
            n *= d
        _limit(n, max_elements, name + ".shape")
        low = self.finite(name + ".low", n)
        high = self.finite(name + ".high", n)
        _ordered(low, high, name + ".high")
        return Space(tuple(shape), low, high)


def _read_hello(r: _Reader, limits: Limits) -> Hello:
    role = r.enum(Role, r.u8(), "hello.role")
    lo = (r.u8(), r.u8())
    hi = (r.u8(), r.u8())
    if lo > hi:
        raise _invalid("hello.version_range")
    return Hello(role, lo, hi, r.u32(), r.u32(), r.u64(),
                 r.string("hello.client_name", limits), r.string("hello.client_version", limits),
                 r.raw_bytes("hello.auth_token", limits), r.string("hello.env_id", limits),
                 r.space("hello.observation_space", limits.max_observation_elements, limits),
                 r.space("hello.action_space", limits.max_action_elements, limits))


def _read_welcome(r: _Reader, limits: Limits) -> Welcome:
    version = (r.u8(), r.u8())
    caps, run, policy = r.u32(), r.u64(), r.u64()
    warmup, batch_hint, max_batch, upload_ms, chunk, refresh, heartbeat_ms, max_frame = (r.u32() for _ in range(8))
    return Welcome(version, caps, run, policy, warmup, batch_hint, max_batch, upload_ms, chunk, refresh,
                   heartbeat_ms, max_frame, r.string("welcome.env_id", limits), r.string("welcome.preset", limits))


def _read_refused(r: _Reader, limits: Limits) -> Refused:
    code = r.enum(ErrorCode, r.u16(), "refused.code")
    retry = r.u32()
    lo = (r.u8(), r.u8())
    hi = (r.u8(), r.u8())
    return Refused(code, retry, lo, hi, r.string("refused.text", limits))


def _read_goodbye(r: _Reader, limits: Limits) -> Goodbye:
    return Goodbye(r.enum(GoodbyeReason, r.u16(), "goodbye.reason"), r.string("goodbye.text", limits))


def _read_ack(r: _Reader, limits: Limits) -> Ack:
    return Ack(r.enum(MessageType, r.u16(), "ack.acked_type"))


def _read_error(r: _Reader, limits: Limits) -> Error:
    code = r.enum(ErrorCode, r.u16(), "error.code")
    return Error(code, r.u16(), r.u32(), r.string("error.text", limits))


def _read_heartbeat(r: _Reader, limits: Limits) -> Heartbeat:
    return Heartbeat(r.u32(), r.u32(), *[r.u64() for _ in range(7)])


def _read_heartbeat_reply(r: _Reader, limits: Limits) -> HeartbeatReply:
    return HeartbeatReply(*[r.u64() for _ in range(4)])


def _read_transitions(r: _Reader, limits: Limits) -> Transitions:
    actor = r.u32()
    n = r.count("transitions.count", limits.max_transitions_per_batch)
    run, seq, policy = r.u64(), r.u64(), r.u64()
    d_o = r.dim("transitions.obs_dim", limits.max_observation_elements)
    d_a = r.dim("transitions.action_dim", limits.max_action_elements)
    r.need(n * (17 + 8 * d_o + 4 * d_a))
    episode_ids = r.column("<u8", n)
    steps = r.column("<u4", n)
    obs = r.finite("transitions.observations", n * d_o).reshape(n, d_o)
    next_obs = r.finite("transitions.next_observations", n * d_o).reshape(n, d_o)
    actions = r.column("<f4", n * d_a).reshape(n, d_a)
    _unit(actions, "transitions.actions")
    rewards = r.finite("transitions.rewards", n)
    done = r.column("u1", n)
    _done(done, "transitions.done_flags")
    return Transitions(actor, run, seq, policy, episode_ids, steps, obs, next_obs, actions, rewards, done)


def _read_transitions_ack(r: _Reader, limits: Limits) -> TransitionsAck:
    seq, policy, retry = r.u64(), r.u64(), r.u32()
    return TransitionsAck(seq, policy, retry, r.enum(TransitionsStatus, r.u8(), "transitions_ack.status"))


def _read_episode_stats(r: _Reader, limits: Limits) -> EpisodeStats:
    actor = r.u32()
    n = r.count("episode_stats.count", limits.max_episodes_per_message)
    run = r.u64()
    r.need(36 * n)
    ids = r.column("<u8", n)
    seeds = r.column("<u8", n)
    returns = r.column("<f8", n)
    _finite(returns, "episode_stats.returns")
    seconds = r.column("<f8", n)
    _finite(seconds, "episode_stats.seconds")
    _nonneg(seconds, "episode_stats.seconds")
    lengths = r.column("<u4", n)
    return EpisodeStats(actor, run, ids, seeds, returns, seconds, lengths)


def _read_weights_request(r: _Reader, limits: Limits) -> WeightsRequest:
    held, fetch, chunk, flags = r.u64(), r.u64(), r.u32(), r.u8()
    if flags & ~WEIGHTS_ONLY_IF_NEWER:
        raise _invalid("weights_request.flags")
    return WeightsRequest(held, fetch, chunk, bool(flags & WEIGHTS_ONLY_IF_NEWER))


def _read_weights(r: _Reader, limits: Limits) -> Weights:
    version, total = r.u64(), r.u64()
    _limit(total, limits.max_weights_bytes, "weights.total_bytes")
    offset, index, count = r.u64(), r.u32(), r.u32()
    # Cross-field rules right after their last field (PROTOCOL.md 2.1, 5.12).
    if count == 0 and (index or total or offset):
        raise _malformed("weights.chunk_count", "an unchanged reply carries nothing")
    if count != 0 and index >= count:
        raise _malformed("weights.chunk_index", f"chunk {index} of {count}")
    n_tensors = r.count("weights.tensor_count", limits.max_tensor_count)
    if index != 0 and n_tensors != 0:
        raise _malformed("weights.tensor_count", "only chunk 0 carries the table")
    if count == 0 and n_tensors != 0:
        raise _malformed("weights.chunk_count", "an unchanged reply carries nothing")
    tensors = []
    for i in range(n_tensors):
        name = r.string("weights.tensors.name", limits)
        dtype = r.u8()
        if dtype not in DTYPE_SIZE.keys():
            raise _invalid("weights.tensors.dtype", i)
        rank = r.u8()
        _limit(rank, limits.max_rank, "weights.tensors.rank")
        shape = tuple(r.u32() for _ in range(rank))
        t = TensorEntry(name, dtype, shape, r.u64())
        _tensor_inside(t, total, i)
        tensors.append(t)
    length = r.count("weights.data_length", limits.max_chunk_bytes)
    if count == 0 and length != 0:
        raise _malformed("weights.chunk_count", "an unchanged reply carries nothing")
    if offset + length > total:
        raise _malformed("weights.chunk_offset", "chunk data run past the blob")
    return Weights(version, total, offset, index, count, tensors, bytes(r.take(length)))


def _read_action_request(r: _Reader, limits: Limits) -> ActionRequest:
    flags = r.u32()
    if flags & ~(ACTION_DETERMINISTIC | ACTION_WANT_VALUES):
        raise _invalid("action_request.flags")
    n = r.count("action_request.count", limits.max_action_rows)
    d_o = r.dim("action_request.obs_dim", limits.max_observation_elements)
    d_a = r.dim("action_request.action_dim", limits.max_action_elements)
    r.need(n * (14 + 4 * d_o))
    ids = r.column("<u8", n)
    obs = r.finite("action_request.observations", n * d_o).reshape(n, d_o)
    rewards = r.finite("action_request.prev_rewards", n)
    events = r.column("u1", n)
    i = _first(events > ActionEvent.END)
    if i is not None:
        raise _invalid("action_request.events", i)
    done = r.column("u1", n)
    _done(done, "action_request.prev_done_flags")
    return ActionRequest(bool(flags & ACTION_DETERMINISTIC), bool(flags & ACTION_WANT_VALUES), d_a,
                         ids, obs, rewards, events, done)


def _read_action_reply(r: _Reader, limits: Limits) -> ActionReply:
    policy = r.u64()
    n = r.count("action_reply.count", limits.max_action_rows)
    d_a = r.dim("action_reply.action_dim", limits.max_action_elements)
    flags = r.u32()
    if flags & ~ACTION_HAS_VALUES:
        raise _invalid("action_reply.flags")
    r.need(4 * n * (d_a + (1 if flags & ACTION_HAS_VALUES else 0)))
    actions = r.column("<f4", n * d_a).reshape(n, d_a)
    _unit(actions, "action_reply.actions")
    values = r.finite("action_reply.values", n) if flags & ACTION_HAS_VALUES else None
    return ActionReply(policy, actions, values)


_READERS: Dict[MessageType, Callable[[_Reader, Limits], Message]] = {
    MessageType.HELLO: _read_hello, MessageType.WELCOME: _read_welcome,
    MessageType.REFUSED: _read_refused, MessageType.GOODBYE: _read_goodbye,
    MessageType.ACK: _read_ack, MessageType.ERROR: _read_error,
    MessageType.HEARTBEAT: _read_heartbeat, MessageType.HEARTBEAT_REPLY: _read_heartbeat_reply,
    MessageType.TRANSITIONS: _read_transitions, MessageType.TRANSITIONS_ACK: _read_transitions_ack,
    MessageType.EPISODE_STATS: _read_episode_stats, MessageType.WEIGHTS_REQUEST: _read_weights_request,
    MessageType.WEIGHTS: _read_weights, MessageType.ACTION_REQUEST: _read_action_request,
    MessageType.ACTION_REPLY: _read_action_reply,
}

_PREFIX = {t: t.name.lower() for t in MessageType}


def _checksum(frame: Union[bytes, bytearray, memoryview]) -> int:
    return zlib.crc32(frame[HEADER_SIZE:], zlib.crc32(frame[:20]))


def decode(data: Union[bytes, bytearray, memoryview], limits: Optional[Limits] = None) -> Frame:
    """Parse one frame, checking in the order of section 2.1; raises :class:`WireError`."""
    limits = limits or Limits()
    buf = memoryview(data).cast("B")
    if len(buf) < HEADER_SIZE:
        raise WireError(ErrorCode.TRUNCATED, f"needed {HEADER_SIZE} bytes, {len(buf)} available")
    magic, major, minor, mtype, flags, request_id, length, crc = _HEADER.unpack(buf[:HEADER_SIZE])
    if magic != MAGIC:
        raise WireError(ErrorCode.BAD_MAGIC, "not a meow frame")
    if major != MAJOR:
        raise WireError(ErrorCode.UNSUPPORTED_VERSION, f"version {major}.{minor}; this codec speaks major {MAJOR}")
    _limit(length, limits.max_frame_bytes - HEADER_SIZE, "header.payload_length")
    if len(buf) < HEADER_SIZE + length:
        raise WireError(ErrorCode.TRUNCATED, f"needed {HEADER_SIZE + length} bytes, {len(buf)} available")
    if len(buf) > HEADER_SIZE + length:
        raise _malformed("header.payload_length", f"{len(buf) - HEADER_SIZE - length} bytes follow the payload")
    actual = _checksum(buf)
    if actual != crc:
        raise WireError(ErrorCode.BAD_CHECKSUM, f"header says {crc:#010x}, frame has {actual:#010x}")
    if flags & MUST_UNDERSTAND_FLAGS:
        raise _invalid("header.flags")
    try:
        kind = MessageType(mtype)
    except ValueError:
        raise WireError(ErrorCode.UNKNOWN_MESSAGE_TYPE, f"type {mtype:#06x}") from None
    r = _Reader(buf, HEADER_SIZE, HEADER_SIZE + length)
    message = _READERS[kind](r, limits)
    return Frame(message, request_id, flags, minor, _read_extensions(r, _PREFIX[kind], limits))


def _read_extensions(r: _Reader, prefix: str, limits: Limits) -> List[Tuple[int, bytes]]:
    records: List[Tuple[int, bytes]] = []
    while r.remaining():
        if len(records) >= limits.max_extensions:
            raise WireError(ErrorCode.LENGTH_OVER_LIMIT, "too many extension records", prefix + ".extensions")
        if r.remaining() < 6:
            raise _malformed(prefix + ".extensions", "record header runs past the payload")
        tag, length = r.u16(), r.u32()
        if tag == 0:
            raise _invalid(prefix + ".extensions.tag", len(records))
        if length > r.remaining():
            raise _malformed(prefix + ".extensions", "record value runs past the payload")
        records.append((tag, bytes(r.take(length))))
    return records


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


class _Writer:
    __slots__ = ("out", "limits")

    def __init__(self, limits: Limits):
        self.out = bytearray()
        self.limits = limits

    def pack(self, fmt: str, *values: Any) -> None:
        self.out += struct.pack("<" + fmt, *values)

    def column(self, a: np.ndarray, dtype: str) -> None:
        self.out += np.ascontiguousarray(a, dtype=np.dtype(dtype)).tobytes()

    def raw_bytes(self, value: bytes, name: str) -> None:
        _limit(len(value), min(self.limits.max_string_bytes, 0xFFFF), name)
        self.pack("H", len(value))
        self.out += value

    def string(self, value: str, name: str) -> None:
        self.raw_bytes(value.encode("utf-8"), name)

    def space(self, s: Space, name: str, max_elements: int) -> None:
        _limit(len(s.shape), min(self.limits.max_rank, 255), name + ".rank")
        for i, d in enumerate(s.shape):
            if not 1 <= d <= 0xFFFFFFFF:
                raise _invalid(name + ".shape", i)
        n = int(np.prod(s.shape, dtype=object)) if s.shape else 1
        _limit(n, max_elements, name + ".shape")
        low, high = _f32(s.low).reshape(-1), _f32(s.high).reshape(-1)
        for a, part in ((low, ".low"), (high, ".high")):
            if a.size != n:
                raise _malformed(name + part, f"holds {a.size} elements, expected {n}")
            _finite(a, name + part)
        _ordered(low, high, name + ".high")
        self.pack("BB", DType.FLOAT32, len(s.shape))
        self.pack(f"{len(s.shape)}I", *s.shape)
        self.column(low, "<f4")
        self.column(high, "<f4")


def _rows(a: npt.ArrayLike, name: str, n: int, cols: Optional[int] = None) -> np.ndarray:
    """``a`` as an array of shape (n,) or (n, cols); anything else is MALFORMED."""
    a = np.asarray(a)
    expected = (n,) if cols is None else (n, cols)
    if a.shape != expected:
        raise _malformed(name, f"has shape {a.shape}, expected {expected}")
    return a


def _matrix(a: npt.ArrayLike, name: str) -> np.ndarray:
    m = _f32(a)
    if m.ndim != 2:
        raise _malformed(name, f"must be 2-D (rows, width), has shape {m.shape}")
    return m


def _dim(value: int, limit: int, name: str) -> None:
    _limit(value, limit, name)
    if value < 1:
        raise _invalid(name)


def _write_hello(w: _Writer, m: Hello) -> None:
    if tuple(m.min_version) > tuple(m.max_version):
        raise _invalid("hello.version_range")
    w.pack("BBBBBIIQ", int(m.role), *m.min_version, *m.max_version, m.capabilities, m.actor_id, m.run_id)
    w.string(m.client_name, "hello.client_name")
    w.string(m.client_version, "hello.client_version")
    w.raw_bytes(bytes(m.auth_token), "hello.auth_token")
    w.string(m.env_id, "hello.env_id")
    w.space(m.observation_space, "hello.observation_space", w.limits.max_observation_elements)
    w.space(m.action_space, "hello.action_space", w.limits.max_action_elements)


def _write_welcome(w: _Writer, m: Welcome) -> None:
    w.pack("BBIQQ8I", *m.version, m.capabilities, m.learner_run_id, m.policy_version, m.warmup_transitions,
           m.batch_hint, m.max_batch, m.upload_interval_ms, m.weights_chunk_bytes, m.weights_refresh_steps,
           m.heartbeat_interval_ms, m.max_frame_bytes)
    w.string(m.env_id, "welcome.env_id")
    w.string(m.preset, "welcome.preset")


def _write_refused(w: _Writer, m: Refused) -> None:
    w.pack("HIBBBB", int(m.code), m.retry_after_ms, *m.min_version, *m.max_version)
    w.string(m.text, "refused.text")


def _write_goodbye(w: _Writer, m: Goodbye) -> None:
    w.pack("H", int(m.reason))
    w.string(m.text, "goodbye.text")


def _write_ack(w: _Writer, m: Ack) -> None:
    w.pack("H", int(m.acked_type))


def _write_error(w: _Writer, m: Error) -> None:
    w.pack("HHI", int(m.code), m.failed_type, m.retry_after_ms)
    w.string(m.text, "error.text")


def _write_heartbeat(w: _Writer, m: Heartbeat) -> None:
    w.pack("II7Q", m.actor_id, m.queue_length, m.run_id, m.policy_version, m.env_steps, m.episodes,
           m.batches_sent, m.batches_acked, m.transitions_dropped)


def _write_heartbeat_reply(w: _Writer, m: HeartbeatReply) -> None:
    w.pack("4Q", m.learner_run_id, m.policy_version, m.updates, m.replay_size)


def _write_transitions(w: _Writer, m: Transitions) -> None:
    lim = w.limits
    n = len(m.episode_ids)
    _limit(n, lim.max_transitions_per_batch, "transitions.count")
    obs = _matrix(m.observations, "transitions.observations")
    act = _matrix(m.actions, "transitions.actions")
    d_o, d_a = obs.shape[1], act.shape[1]
    _dim(d_o, lim.max_observation_elements, "transitions.obs_dim")
    _dim(d_a, lim.max_action_elements, "transitions.action_dim")
    steps = _rows(m.step_indices, "transitions.step_indices", n)
    obs = _rows(obs, "transitions.observations", n, d_o)
    next_obs = _rows(_f32(m.next_observations), "transitions.next_observations", n, d_o)
    act = _rows(act, "transitions.actions", n, d_a)
    rewards = _rows(_f32(m.rewards), "transitions.rewards", n)
    done = _rows(np.asarray(m.done_flags, dtype=np.uint8), "transitions.done_flags", n)
    _finite(obs, "transitions.observations")
    _finite(next_obs, "transitions.next_observations")
    _unit(act, "transitions.actions")
    _finite(rewards, "transitions.rewards")
    _done(done, "transitions.done_flags")
    w.pack("IIQQQII", m.actor_id, n, m.run_id, m.seq, m.policy_version, d_o, d_a)
    w.column(m.episode_ids, "<u8")
    w.column(steps, "<u4")
    w.column(obs, "<f4")
    w.column(next_obs, "<f4")
    w.column(act, "<f4")
    w.column(rewards, "<f4")
    w.column(done, "u1")


def _write_transitions_ack(w: _Writer, m: TransitionsAck) -> None:
    w.pack("QQIB", m.seq, m.policy_version, m.retry_after_ms, int(m.status))


def _write_episode_stats(w: _Writer, m: EpisodeStats) -> None:
    n = len(m.episode_ids)
    _limit(n, w.limits.max_episodes_per_message, "episode_stats.count")
    cols = [_rows(np.asarray(c), "episode_stats." + name, n)
            for c, name in ((m.seeds, "seeds"), (m.returns, "returns"), (m.seconds, "seconds"), (m.lengths, "lengths"))]
    seeds, returns, seconds, lengths = cols
    returns, seconds = returns.astype(np.float64), seconds.astype(np.float64)
    _finite(returns, "episode_stats.returns")
    _finite(seconds, "episode_stats.seconds")
    _nonneg(seconds, "episode_stats.seconds")
    w.pack("IIQ", m.actor_id, n, m.run_id)
    w.column(m.episode_ids, "<u8")
    w.column(seeds, "<u8")
    w.column(returns, "<f8")
    w.column(seconds, "<f8")
    w.column(lengths, "<u4")


def _write_weights_request(w: _Writer, m: WeightsRequest) -> None:
    w.pack("QQIB", m.held_version, m.fetch_version, m.chunk_index, WEIGHTS_ONLY_IF_NEWER if m.only_if_newer else 0)


def _write_weights(w: _Writer, m: Weights) -> None:
    lim = w.limits
    _limit(m.total_bytes, lim.max_weights_bytes, "weights.total_bytes")
    _limit(len(m.tensors), lim.max_tensor_count, "weights.tensor_count")
    if m.chunk_index != 0 and m.tensors:
        raise _malformed("weights.tensor_count", "only chunk 0 carries the table")
    w.pack("QQQIII", m.version, m.total_bytes, m.chunk_offset, m.chunk_index, m.chunk_count, len(m.tensors))
    for i, t in enumerate(m.tensors):
        if int(t.dtype) not in DTYPE_SIZE.keys():
            raise _invalid("weights.tensors.dtype", i)
        _limit(len(t.shape), min(lim.max_rank, 255), "weights.tensors.rank")
        _tensor_inside(t, m.total_bytes, i)
        w.string(t.name, "weights.tensors.name")
        w.pack(f"BB{len(t.shape)}IQ", int(t.dtype), len(t.shape), *t.shape, t.offset)
    _limit(len(m.data), lim.max_chunk_bytes, "weights.data_length")
    _placement(m)
    w.pack("I", len(m.data))
    w.out += bytes(m.data)


def _write_action_request(w: _Writer, m: ActionRequest) -> None:
    lim = w.limits
    n = len(m.episode_ids)
    _limit(n, lim.max_action_rows, "action_request.count")
    obs = _matrix(m.observations, "action_request.observations")
    d_o = obs.shape[1]
    _dim(d_o, lim.max_observation_elements, "action_request.obs_dim")
    _dim(m.action_dim, lim.max_action_elements, "action_request.action_dim")
    obs = _rows(obs, "action_request.observations", n, d_o)
    rewards = _rows(_f32(m.prev_rewards), "action_request.prev_rewards", n)
    events = _rows(np.asarray(m.events, dtype=np.uint8), "action_request.events", n)
    done = _rows(np.asarray(m.prev_done_flags, dtype=np.uint8), "action_request.prev_done_flags", n)
    _finite(obs, "action_request.observations")
    _finite(rewards, "action_request.prev_rewards")
    i = _first(events > ActionEvent.END)
    if i is not None:
        raise _invalid("action_request.events", i)
    _done(done, "action_request.prev_done_flags")
    flags = (ACTION_DETERMINISTIC if m.deterministic else 0) | (ACTION_WANT_VALUES if m.want_values else 0)
    w.pack("IIII", flags, n, d_o, m.action_dim)
    w.column(m.episode_ids, "<u8")
    w.column(obs, "<f4")
    w.column(rewards, "<f4")
    w.column(events, "u1")
    w.column(done, "u1")


def _write_action_reply(w: _Writer, m: ActionReply) -> None:
    lim = w.limits
    act = _matrix(m.actions, "action_reply.actions")
    n, d_a = act.shape
    _limit(n, lim.max_action_rows, "action_reply.count")
    _dim(d_a, lim.max_action_elements, "action_reply.action_dim")
    _unit(act, "action_reply.actions")
    values = None
    if m.values is not None:
        values = _rows(_f32(m.values), "action_reply.values", n)
        _finite(values, "action_reply.values")
    w.pack("QIII", m.policy_version, n, d_a, ACTION_HAS_VALUES if values is not None else 0)
    w.column(act, "<f4")
    if values is not None:
        w.column(values, "<f4")


_WRITERS: Dict[type, Callable[[_Writer, Any], None]] = {
    Hello: _write_hello, Welcome: _write_welcome, Refused: _write_refused, Goodbye: _write_goodbye,
    Ack: _write_ack, Error: _write_error, Heartbeat: _write_heartbeat, HeartbeatReply: _write_heartbeat_reply,
    Transitions: _write_transitions, TransitionsAck: _write_transitions_ack, EpisodeStats: _write_episode_stats,
    WeightsRequest: _write_weights_request, Weights: _write_weights, ActionRequest: _write_action_request,
    ActionReply: _write_action_reply,
}


def encode(frame: Frame, limits: Optional[Limits] = None) -> bytes:
    """The frame's bytes, after checking it against the rules a receiver with ``limits`` applies."""
    limits = limits or Limits()
    if frame.flags & MUST_UNDERSTAND_FLAGS:
        raise _invalid("header.flags")
    prefix = _PREFIX[frame.type]
    _limit(len(frame.extensions), limits.max_extensions, prefix + ".extensions")
    w = _Writer(limits)
    w.out += bytes(HEADER_SIZE)
    _WRITERS[type(frame.message)](w, frame.message)
    for tag, value in frame.extensions:
        if tag == 0:
            raise _invalid(prefix + ".extensions.tag")
        w.pack("HI", tag, len(value))
        w.out += bytes(value)
    length = len(w.out) - HEADER_SIZE
    _limit(length, limits.max_frame_bytes - HEADER_SIZE, "header.payload_length")
    _HEADER.pack_into(w.out, 0, MAGIC, MAJOR, frame.minor, frame.type, frame.flags, frame.request_id, length, 0)
    struct.pack_into("<I", w.out, 20, _checksum(w.out))
    return bytes(w.out)


# --------------------------------------------------------------------------------------------
# JSON description (section 10)
# --------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.reshape(-1)] if value.ndim else _plain(value.item())
    if isinstance(value, (np.floating, float)):
        return float(value)
    if isinstance(value, (np.integer, bool, enum.IntEnum)):
        return value if isinstance(value, bool) else int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    return value


def describe(frame: Frame) -> Dict[str, Any]:
    """A JSON-ready description of a frame: header fields plus the message's fields.

    2-D arrays are flattened row-major and their width given as ``obs_dim``/``action_dim``;
    bytes are lower-case hex; enums are their integer values.
    """
    body = _plain(frame.message)
    m = frame.message
    if isinstance(m, Transitions):
        body["obs_dim"], body["action_dim"] = int(m.observations.shape[1]), int(m.actions.shape[1])
    if isinstance(m, ActionRequest):
        body["obs_dim"] = int(m.observations.shape[1])
    if isinstance(m, ActionReply):
        body["action_dim"] = int(m.actions.shape[1])
    out = {
        "type": frame.type.name,
        "minor": frame.minor,
        "flags": frame.flags,
        "request_id": frame.request_id,
        "extensions": [{"tag": tag, "value": bytes(v).hex()} for tag, v in frame.extensions],
        "message": body,
    }
    # The evaluation records of section 5.15, decoded (a malformed one is described as None).
    tags = {tag for tag, _ in frame.extensions}
    try:
        if isinstance(m, ActionReply) and EVALUATE_TAG in tags:
            out["evaluation"] = {"seeds": decode_evaluate(frame.extensions)}
        elif isinstance(m, ActionRequest) and EVALUATION_STARTS_TAG in tags:
            starts = decode_evaluation_starts(frame.extensions)
            if starts is not None:
                out["evaluation"] = {"episode_ids": starts[0], "seeds": starts[1]}
    except WireError:
        out["evaluation"] = None
    return out


# --------------------------------------------------------------------------------------------
# Evaluation records (section 5.15): extension records of ACTION_REPLY and ACTION_REQUEST
# --------------------------------------------------------------------------------------------

EVALUATE_TAG = 0x0001            # ACTION_REPLY: seeds of the evaluation episodes to start next
EVALUATION_STARTS_TAG = 0x0001   # ACTION_REQUEST: evaluation episodes this request starts


def _check_seeds(seeds: npt.NDArray[np.uint64], field_name: str, limits: Limits) -> None:
    if len(seeds) > limits.max_action_rows:
        raise WireError(ErrorCode.LENGTH_OVER_LIMIT, f"{len(seeds)} > {limits.max_action_rows}", field_name + ".count")
    if len(seeds) == 0:
        raise _invalid(field_name + ".count", 0)
    bad = np.flatnonzero(seeds == np.uint64(NO_SEED))
    if len(bad):
        raise _invalid(field_name + ".seeds", int(bad[0]))


def encode_evaluate(seeds: Sequence[int], limits: Optional[Limits] = None) -> Tuple[int, bytes]:
    """The ``EVALUATE`` record of an ACTION_REPLY: ``u32 count, u64 seeds[count]``."""
    column: npt.NDArray[np.uint64] = np.ascontiguousarray(seeds, dtype="<u8").reshape(-1)
    _check_seeds(column, "action_reply.extensions.evaluate", limits or Limits())
    return EVALUATE_TAG, struct.pack("<I", len(column)) + column.tobytes()


def decode_evaluate(extensions: Sequence[Tuple[int, bytes]], limits: Optional[Limits] = None) -> Optional[List[int]]:
    """The seeds of an ACTION_REPLY's ``EVALUATE`` record, or None when it has none."""
    limits = limits or Limits()
    name = "action_reply.extensions.evaluate"
    values = [bytes(v) for tag, v in extensions if tag == EVALUATE_TAG]
    if not values:
        return None
    if len(values) > 1:
        raise _malformed(name, "the record appears twice")
    value = values[0]
    if len(value) < 4:
        raise _malformed(name, "shorter than its count")
    (count,) = struct.unpack_from("<I", value)
    if count > limits.max_action_rows:
        raise WireError(ErrorCode.LENGTH_OVER_LIMIT, f"{count} > {limits.max_action_rows}", name + ".count")
    if len(value) != 4 + 8 * count:
        raise _malformed(name, f"{len(value)} bytes for {count} seeds")
    seeds = np.frombuffer(value, dtype="<u8", count=count, offset=4)
    _check_seeds(seeds, name, limits)
    return [int(s) for s in seeds]


def encode_evaluation_starts(episode_ids: Sequence[int], seeds: Sequence[int],
                             limits: Optional[Limits] = None) -> Tuple[int, bytes]:
    """The ``EVALUATION_STARTS`` record of an ACTION_REQUEST: ``u32 n, u64 episode_ids[n], u64 seeds[n]``."""
    ids: npt.NDArray[np.uint64] = np.ascontiguousarray(episode_ids, dtype="<u8").reshape(-1)
    column: npt.NDArray[np.uint64] = np.ascontiguousarray(seeds, dtype="<u8").reshape(-1)
    _check_starts(ids, column, limits or Limits())
    return EVALUATION_STARTS_TAG, struct.pack("<I", len(column)) + ids.tobytes() + column.tobytes()


def _check_starts(ids: npt.NDArray[np.uint64], seeds: npt.NDArray[np.uint64], limits: Limits) -> None:
    name = "action_request.extensions.evaluation_starts"
    _check_seeds(seeds, name, limits)
    if len(ids) != len(seeds):
        raise _malformed(name, f"{len(ids)} episode ids for {len(seeds)} seeds")
    if len(set(ids.tolist())) != len(ids):
        raise _malformed(name + ".episode_ids", "an episode is named twice")


def decode_evaluation_starts(extensions: Sequence[Tuple[int, bytes]],
                             limits: Optional[Limits] = None) -> Optional[Tuple[List[int], List[int]]]:
    """``(episode_ids, seeds)`` of an ACTION_REQUEST's ``EVALUATION_STARTS`` record, or None."""
    limits = limits or Limits()
    name = "action_request.extensions.evaluation_starts"
    values = [bytes(v) for tag, v in extensions if tag == EVALUATION_STARTS_TAG]
    if not values:
        return None
    if len(values) > 1:
        raise _malformed(name, "the record appears twice")
    value = values[0]
    if len(value) < 4:
        raise _malformed(name, "shorter than its count")
    (count,) = struct.unpack_from("<I", value)
    if count > limits.max_action_rows:
        raise WireError(ErrorCode.LENGTH_OVER_LIMIT, f"{count} > {limits.max_action_rows}", name + ".count")
    if len(value) != 4 + 16 * count:
        raise _malformed(name, f"{len(value)} bytes for {count} episodes")
    ids = np.frombuffer(value, dtype="<u8", count=count, offset=4)
    seeds = np.frombuffer(value, dtype="<u8", count=count, offset=4 + 8 * count)
    _check_starts(ids, seeds, limits)
    return [int(i) for i in ids], [int(s) for s in seeds]
