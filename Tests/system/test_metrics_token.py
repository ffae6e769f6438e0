"""The metrics endpoint's token rule with a real meow-learner: beyond loopback /metrics answers
only `Authorization: Bearer <token>`, the probe paths stay open, loopback stays open, and the
learner refuses a non-loopback --metrics-listen without a token.
"""

import os
import urllib.error
import urllib.request

import pytest

from conftest import free_port, stop, wait_for

TOKEN = "metrics-token-4e1d9b-never-printed"


def clean_environment(**extra):
    """The test's environment without an inherited MEOW_TOKEN, plus `extra`."""
    return {key: value for key, value in os.environ.items() if key != "MEOW_TOKEN"} | extra


def get(port: int, path: str, token: str | None = None) -> tuple[int, str]:
    """(status, body) of a GET to 127.0.0.1:`port`, with a bearer token if given."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def answering(port: int) -> bool:
    try:
        return get(port, "/healthz")[0] == 200
    except OSError:
        return False


@pytest.mark.parametrize("host", ["0.0.0.0", "[::]"])
def test_non_loopback_metrics_without_a_token_exits_naming_the_flag(cluster, host):
    learner = cluster.learner("--steps", "1000", "--metrics-listen", f"{host}:{free_port()}",
                              env=clean_environment())
    assert learner.wait(timeout=30) != 0, cluster.log("learner")
    log = cluster.log("learner")
    assert "--metrics-listen" in log and "--token-file" in log, log
    assert "learner: listening on" not in log and "metrics on" not in log, log


def test_non_loopback_metrics_need_the_bearer_token_and_probes_stay_open(cluster):
    port = free_port()
    learner = cluster.learner("--steps", "1000000", "--metrics-listen", f"0.0.0.0:{port}",
                              env=clean_environment(MEOW_TOKEN=TOKEN))
    wait_for(lambda: answering(port), 30, "the metrics endpoint")
    status, body = get(port, "/metrics")
    assert status == 401 and "meow_" not in body
    assert get(port, "/metrics", token="not-" + TOKEN)[0] == 401
    assert get(port, "/metrics", token=TOKEN[:-1])[0] == 401
    status, body = get(port, "/metrics", token=TOKEN)
    assert status == 200 and "meow_env_steps_total" in body
    assert get(port, "/healthz") == (200, "ok\n")
    assert get(port, "/readyz")[0] in (200, 503)
    assert stop(learner, timeout=40) == 0, cluster.log("learner")
    log = cluster.log("learner")
    assert "bearer token required" in log and TOKEN not in log, log


def test_loopback_metrics_stay_open_with_and_without_a_token(cluster):
    for name, env in (("open", clean_environment()), ("with-token", clean_environment(MEOW_TOKEN=TOKEN))):
        port = free_port()
        learner = cluster.learner("--steps", "1000000", "--metrics-listen", f"127.0.0.1:{port}",
                                  name=name, run_dir=name, env=env)
        wait_for(lambda: answering(port), 30, "the metrics endpoint")
        status, body = get(port, "/metrics")
        assert status == 200 and "meow_env_steps_total" in body, name
        assert stop(learner, timeout=40) == 0, cluster.log(name)
