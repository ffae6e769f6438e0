"""Sessions on the wire (PROTOCOL.md 3.1): the auth token HELLO checks protects the connection it
was welcomed on, and nothing else. Each test has a hostile second connection that knows the ids
of a welcomed peer but never said HELLO, or said it as someone else.
"""

import json
import time

from conftest import stop, wait_for
from meow_client import wire
from peer import Peer

TOKEN = b"session-token-for-pytest"


def _code(reply):
    return reply.code if isinstance(reply, (wire.Error, wire.Refused)) else type(reply).__name__


def _hello_when_up(peer):
    def attempt():
        try:
            return peer.hello()
        except Exception:
            return None
    return wait_for(attempt, 30, "the learner to answer HELLO")


def _learner(cluster, *args):
    return cluster.learner("--steps", "1000000", "--token", TOKEN.decode(), "--stats-interval-ms", "100", *args)


def test_a_connection_that_never_said_hello_gets_nothing(cluster):
    learner = _learner(cluster)
    honest = Peer(cluster.url, actor_id=7400, token=TOKEN)
    intruder = Peer(cluster.url, actor_id=7400, run_id=honest.run_id)  # same ids, no HELLO, no token
    try:
        assert isinstance(_hello_when_up(honest), wire.Welcome)
        assert _code(intruder.transitions(seq=0)) == wire.ErrorCode.NOT_WELCOME
        assert _code(intruder.episode_stats()) == wire.ErrorCode.NOT_WELCOME
        assert _code(intruder.heartbeat()) == wire.ErrorCode.NOT_WELCOME
        assert _code(intruder.weights_request()) == wire.ErrorCode.NOT_WELCOME
        assert _code(intruder.goodbye()) == wire.ErrorCode.NOT_WELCOME
        # The honest peer's session is untouched, and its seq 0 was never taken by the intruder.
        assert honest.transitions(seq=0).status == wire.TransitionsStatus.ACCEPTED
        assert isinstance(honest.heartbeat(), wire.HeartbeatReply)
        stats = wait_for(lambda: (s := cluster.learner_stats()) and s["env_steps"] == 8 and s, 10, "the stats file")
        assert stats["actors"]["7400"]["episodes"] == 0
    finally:
        honest.close()
        intruder.close()
    assert stop(learner) == 0


def test_a_connection_welcomed_as_one_actor_cannot_send_as_another(cluster):
    learner = _learner(cluster)
    victim = Peer(cluster.url, actor_id=7400, token=TOKEN)
    other = Peer(cluster.url, actor_id=7401, token=TOKEN, run_id=victim.run_id)
    try:
        assert isinstance(_hello_when_up(victim), wire.Welcome)
        assert isinstance(other.hello(), wire.Welcome)
        reply = other.transitions(seq=0, actor_id=7400)
        assert _code(reply) == wire.ErrorCode.NOT_WELCOME and "7400" in reply.text
        assert _code(other.episode_stats(actor_id=7400)) == wire.ErrorCode.NOT_WELCOME
        assert _code(other.heartbeat(actor_id=7400)) == wire.ErrorCode.NOT_WELCOME
        assert victim.transitions(seq=0).status == wire.TransitionsStatus.ACCEPTED
    finally:
        victim.close()
        other.close()
    assert stop(learner) == 0


def test_goodbye_ends_the_session_and_frees_the_slot_at_once(cluster):
    learner = _learner(cluster, "--max-actors", "1")
    first = Peer(cluster.url, actor_id=1, token=TOKEN)
    second = Peer(cluster.url, actor_id=2, token=TOKEN)
    try:
        assert isinstance(_hello_when_up(first), wire.Welcome)
        assert _code(second.hello()) == wire.ErrorCode.FULL
        assert first.transitions(seq=0).status == wire.TransitionsStatus.ACCEPTED
        assert isinstance(first.goodbye(), wire.Ack)
        assert isinstance(second.hello(), wire.Welcome)
        assert _code(first.transitions(seq=1)) == wire.ErrorCode.NOT_WELCOME
        assert _code(first.goodbye()) == wire.ErrorCode.NOT_WELCOME
    finally:
        first.close()
        second.close()
    assert stop(learner) == 0


def test_a_closed_connection_frees_the_slot_and_a_resend_after_a_new_hello_is_a_duplicate(cluster):
    learner = _learner(cluster, "--max-actors", "1")
    first = Peer(cluster.url, actor_id=1, token=TOKEN)
    second = Peer(cluster.url, actor_id=2, token=TOKEN)
    try:
        assert isinstance(_hello_when_up(first), wire.Welcome)
        assert first.transitions(seq=0).status == wire.TransitionsStatus.ACCEPTED
        first.close()
        # The learner hears of the closed connection through nng's pipe notification.
        wait_for(lambda: isinstance(second.hello(), wire.Welcome), 10, "the closed connection's slot")
        assert isinstance(second.goodbye(), wire.Ack)
        # The same process, reconnected: its resend needs a HELLO, then it is a duplicate.
        again = Peer(cluster.url, actor_id=1, token=TOKEN, run_id=first.run_id)
        try:
            assert _code(again.transitions(seq=0)) == wire.ErrorCode.NOT_WELCOME
            assert isinstance(again.hello(), wire.Welcome)
            assert again.transitions(seq=0).status == wire.TransitionsStatus.DUPLICATE
            assert again.transitions(seq=1).status == wire.TransitionsStatus.ACCEPTED
        finally:
            again.close()
    finally:
        second.close()
    assert stop(learner) == 0


def test_each_role_sends_only_what_the_sent_by_column_lists(cluster):
    learner = _learner(cluster)
    actor = Peer(cluster.url, actor_id=1, token=TOKEN)
    observer = Peer(cluster.url, actor_id=0, token=TOKEN, role=wire.Role.OBSERVER)
    simulator = Peer(cluster.url, actor_id=0, token=TOKEN, role=wire.Role.SIMULATOR)
    try:
        assert isinstance(_hello_when_up(actor), wire.Welcome)
        assert isinstance(observer.hello(), wire.Welcome)
        assert isinstance(simulator.hello(), wire.Welcome)
        unexpected = wire.ErrorCode.UNEXPECTED_MESSAGE
        assert _code(observer.transitions(seq=0, actor_id=0)) == unexpected
        assert _code(simulator.transitions(seq=0, actor_id=0)) == unexpected
        assert _code(actor.action_request()) == unexpected
        assert _code(simulator.weights_request()) == unexpected
        assert _code(observer.episode_stats(actor_id=0)) == unexpected
        # What each role may send still works on the same connections.
        assert isinstance(observer.weights_request(), wire.Weights)
        assert isinstance(simulator.episode_stats(actor_id=0), wire.Ack)
    finally:
        for peer in (actor, observer, simulator):
            peer.close()
    assert stop(learner) == 0


def test_run_ids_stay_out_of_the_stats_file(cluster):
    learner = _learner(cluster)
    peer = Peer(cluster.url, actor_id=5, token=TOKEN)
    try:
        assert isinstance(_hello_when_up(peer), wire.Welcome)
        assert peer.transitions(seq=0).status == wire.TransitionsStatus.ACCEPTED
        stats = wait_for(lambda: (s := cluster.learner_stats()) and s["env_steps"] == 8 and s, 10, "the stats file")
        assert stats["actors"]["5"]["runs"] == 1
        assert str(peer.run_id) not in json.dumps(stats)
    finally:
        peer.close()
    assert stop(learner) == 0


def test_a_peer_that_only_pulls_weights_is_not_silent(cluster):
    # Any request is hearing from the peer (PROTOCOL.md 3.1): WEIGHTS_REQUEST keeps a session as a
    # HEARTBEAT does, so a peer that pulls weights more often than the peer timeout keeps its session.
    learner = _learner(cluster, "--heartbeat-interval-ms", "100")  # peer timeout: 300 ms
    peer = Peer(cluster.url, actor_id=7402, token=TOKEN)
    try:
        assert isinstance(_hello_when_up(peer), wire.Welcome)
        for _ in range(30):  # 1.5 s of pulls, five peer timeouts
            assert _code(peer.weights_request()) != wire.ErrorCode.NOT_WELCOME
            time.sleep(0.05)
        assert peer.transitions(seq=0).status == wire.TransitionsStatus.ACCEPTED
    finally:
        peer.close()
    assert stop(learner) == 0
