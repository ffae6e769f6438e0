"""Kubernetes manifests: kubernetes-validate (strict, offline schemas) for a
recent Kubernetes, and the wiring between learner, actors, Service and Secret."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from deploy_support import DEPLOY, load_yaml_documents, run, tool

KUBERNETES = DEPLOY / "kubernetes"
KUBERNETES_VERSION = "1.30.0"
HINT = "PyPI package kubernetes-validate: scripts/install-deps.sh installs it into .venv"


def kubernetes_validate(path: Path) -> str | None:
    """kubernetes-validate's complaint about a manifest, or None when it is valid.

    --strict rejects unknown fields, so a misspelt probe or port is caught
    instead of being dropped silently by the API server.
    """
    binary = tool("kubernetes-validate", HINT)
    result = run([binary, "--strict", "--kubernetes-version", KUBERNETES_VERSION, str(path)])
    output = result.stdout + result.stderr
    return None if result.returncode == 0 and "WARN" not in output else output


def kustomization() -> dict:
    (document,) = load_yaml_documents(KUBERNETES / "kustomization.yaml")
    return document


def resources() -> dict[str, dict]:
    """The kustomization's resources by kind."""
    found = {}
    for name in kustomization()["resources"]:
        for document in load_yaml_documents(KUBERNETES / name):
            found[document["kind"]] = document
    return found


def container(kind: str) -> dict:
    (only,) = resources()[kind]["spec"]["template"]["spec"]["containers"]
    return only


def flag(args: list[str], name: str) -> str:
    assert name in args, f"{name} missing from {args}"
    return args[args.index(name) + 1]


# MARK: - Schema validation


MANIFESTS = sorted(path.name for path in KUBERNETES.glob("*.yaml") if path.name != "kustomization.yaml")


@pytest.mark.parametrize("name", MANIFESTS)
def test_manifest_validates_against_kubernetes_schema(name: str) -> None:
    assert kubernetes_validate(KUBERNETES / name) is None


@pytest.mark.parametrize(
    "name, old, new",
    [
        ("learner-statefulset.yaml", "containerPort: 7700", "containerPort: seventy-seven"),
        ("learner-statefulset.yaml", "readinessProbe:", "readynessProbe:"),
        ("actor-deployment.yaml", "replicas: 4", "replicas: [4]"),
        ("learner-service.yaml", "type: ClusterIP", "typ: ClusterIP"),
    ],
)
def test_broken_manifest_fails_validation(tmp_path: Path, name: str, old: str, new: str) -> None:
    text = (KUBERNETES / name).read_text()
    assert old in text
    broken = tmp_path / name
    broken.write_text(text.replace(old, new, 1))
    assert kubernetes_validate(broken) is not None


def test_kustomization_lists_every_manifest() -> None:
    assert sorted(kustomization()["resources"]) == MANIFESTS
    assert set(resources()) == {"Namespace", "Service", "StatefulSet", "Deployment"}


# MARK: - Learner


def test_learner_listens_on_all_addresses_with_a_token_file() -> None:
    args = container("StatefulSet")["args"]
    listen = urlsplit(flag(args, "--listen"))
    assert listen.scheme in ("tcp", "tls+tcp")
    assert not ipaddress.ip_address(listen.hostname).is_loopback
    assert flag(args, "--token-file").startswith("/etc/meow/token/")
    assert "--token" not in args
    metrics = flag(args, "--metrics-listen")
    assert not ipaddress.ip_address(metrics.rpartition(":")[0]).is_loopback, "probes come from the kubelet"


def test_learner_is_one_replica_with_a_volume_for_its_run_directory() -> None:
    statefulset = resources()["StatefulSet"]
    assert statefulset["spec"]["replicas"] == 1
    (claim,) = statefulset["spec"]["volumeClaimTemplates"]
    mounts = {mount["name"]: mount["mountPath"] for mount in container("StatefulSet")["volumeMounts"]}
    run_dir = container("StatefulSet")["args"][0]
    assert container("StatefulSet")["command"] == ["meow-learner-start"]
    assert run_dir.startswith(mounts[claim["metadata"]["name"]] + "/")


def test_learner_probes_use_the_metrics_endpoint() -> None:
    learner = container("StatefulSet")
    metrics_port = next(port for port in learner["ports"] if port["containerPort"] == 9100)
    assert learner["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": metrics_port["name"]}
    assert learner["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": metrics_port["name"]}


def test_service_exposes_protocol_and_metrics_ports_of_the_learner() -> None:
    service = resources()["Service"]
    assert service["spec"]["type"] == "ClusterIP"
    assert {port["port"] for port in service["spec"]["ports"]} == {7700, 9100}
    labels = resources()["StatefulSet"]["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert resources()["StatefulSet"]["spec"]["serviceName"] == service["metadata"]["name"]


# MARK: - Actors


def test_actors_are_replicated_and_dial_the_service() -> None:
    deployment = resources()["Deployment"]
    assert deployment["spec"]["replicas"] >= 2
    args = container("Deployment")["args"]
    service = resources()["Service"]["metadata"]["name"]
    assert flag(args, "--connect") == f"tcp://{service}:7700"
    assert flag(args, "--token-file").startswith("/etc/meow/token/")


def test_actors_step_hopper_natively_for_the_learner() -> None:
    """The paper's task: actors step Hopper themselves (the image carries libmujoco), no simulator pods."""
    assert flag(container("Deployment")["args"], "--env") == "hopper"
    assert flag(container("StatefulSet")["args"], "--env") == "hopper"


# MARK: - Both workloads


@pytest.mark.parametrize("kind", ["StatefulSet", "Deployment"])
def test_workload_mounts_the_generated_token_secret(kind: str) -> None:
    (generated,) = kustomization()["secretGenerator"]
    assert kustomization()["generatorOptions"]["disableNameSuffixHash"] is True
    volumes = resources()[kind]["spec"]["template"]["spec"]["volumes"]
    secret_volume = next(volume for volume in volumes if "secret" in volume)
    assert secret_volume["secret"]["secretName"] == generated["name"]
    mount = next(m for m in container(kind)["volumeMounts"] if m["name"] == secret_volume["name"])
    assert mount["readOnly"] is True
    (token_file,) = generated["files"]
    assert flag(container(kind)["args"], "--token-file") == f"{mount['mountPath']}/{token_file}"


@pytest.mark.parametrize("kind", ["StatefulSet", "Deployment"])
def test_workload_has_resources_and_runs_restricted(kind: str) -> None:
    pod = resources()[kind]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    limits = container(kind)["resources"]
    assert {"cpu", "memory"} <= limits["requests"].keys() and {"cpu", "memory"} <= limits["limits"].keys()
    security = container(kind)["securityContext"]
    assert security["allowPrivilegeEscalation"] is False and security["capabilities"]["drop"] == ["ALL"]
