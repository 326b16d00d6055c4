"""docker-compose.yml: valid Compose, every file it names present, services wired consistently."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import pytest
from topology import REPOSITORY, bind_mounts, named_volumes, strings, variable_references

from servicekit.brokers import broker_urls

# The ports docs/deployment.md's "Compose stack" section promises on the host.
PUBLISHED_PORTS = {
    "appstore-api": {8000},
    "dashboard-api": {8001},
    "rabbitmq": {15672},
    "prometheus": {9090},
    "grafana": {3000},
}


def compose_specification() -> dict:
    """The Compose specification's JSON schema (compose-spec/compose-spec, Apache-2.0).

    check-jsonschema ships a copy (with the licence beside it) for its
    ``--builtin-schema vendor.compose-spec``; no network at test time.
    """
    vendored = resources.files("check_jsonschema.builtin_schemas.vendor")
    return json.loads(vendored.joinpath("compose-spec.json").read_text())


def test_matches_the_compose_specification(compose):
    schema = compose_specification()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema, format_checker=jsonschema.FormatChecker())
    errors = [f"{error.json_path}: {error.message}" for error in validator.iter_errors(compose)]
    assert errors == []


def test_the_schema_check_rejects_what_compose_rejects(compose):
    # Guards the test above against a schema that accepts anything.
    broken = json.loads(json.dumps(compose))
    broken["services"]["redis"]["restart"] = 5
    broken["services"]["redis"]["healthchek"] = {"test": ["CMD", "true"]}
    validator = jsonschema.validators.validator_for(compose_specification())(
        compose_specification()
    )
    messages = [error.message for error in validator.iter_errors(broken)]
    assert any("healthchek" in message for message in messages)
    assert any("not of type 'string'" in message for message in messages)


def test_every_variable_has_a_default(raw_compose):
    # Overridable, but `docker compose up` works with nothing set.
    missing = {
        name
        for text in strings(raw_compose)
        for name, operator in variable_references(text)
        if operator not in (":-", "-")
    }
    assert missing == set()


def test_build_contexts_and_dockerfiles_exist(services):
    built = {name: service["build"] for name, service in services.items() if "build" in service}
    assert built, "no service is built from this repository"
    for name, build in built.items():
        context = REPOSITORY / build["context"]
        assert context.is_dir(), f"{name}: no build context {context}"
        assert (context / build.get("dockerfile", "Dockerfile")).is_file(), name


def test_bind_mounted_files_exist(services):
    mounts = [(name, source) for name, s in services.items() for source, _ in bind_mounts(s)]
    assert mounts
    for name, source in mounts:
        assert (REPOSITORY / source).exists(), f"{name} mounts {source}, which does not exist"


def test_named_volumes_are_declared(compose, services):
    declared = set(compose.get("volumes") or {})
    used = {volume for service in services.values() for volume in named_volumes(service)}
    assert used <= declared, f"undeclared volumes: {used - declared}"
    assert declared <= used, f"volumes no service mounts: {declared - used}"


def test_dependencies_name_services_and_wait_for_something_that_happens(services):
    for name, service in services.items():
        for dependency, rule in (service.get("depends_on") or {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            target = services[dependency]
            condition = rule.get("condition", "service_started")
            if condition == "service_healthy":
                assert "healthcheck" in target, f"{name} waits for {dependency}'s healthcheck"
            if condition == "service_completed_successfully":
                assert target.get("restart", "no") == "no", f"{dependency} must run once"
            assert "demo" not in target.get("profiles", []), f"{name} needs the demo profile"


def test_long_running_services_restart_and_have_healthchecks(services):
    running = {n: s for n, s in services.items() if s.get("restart", "no") != "no"}
    assert set(running) >= {
        "postgres",
        "rabbitmq",
        "redis",
        "appstore-api",
        "appstore-relay",
        "dashboard-worker",
        "dashboard-api",
        "prometheus",
        "grafana",
    }
    for name, service in running.items():
        assert service["restart"] == "unless-stopped", name
        assert service["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name


def test_services_migrate_their_database_before_starting(services):
    # The appstore-api runs its image's command, which migrates first (see the Dockerfile).
    for name in ("appstore-relay", "dashboard-worker", "dashboard-api"):
        command = " ".join(services[name]["command"])
        package = name.split("-")[0]
        assert f"{package} db upgrade && exec " in command, name


def test_the_dashboard_waits_for_its_service_account(services):
    for name in ("dashboard-worker", "dashboard-api"):
        rule = services[name]["depends_on"]["appstore-service-account"]
        assert rule["condition"] == "service_completed_successfully"
        assert (
            services[name]["environment"]["DASHBOARD_SERVICE_USERNAME"]
            == services["appstore-service-account"]["environment"]["DASHBOARD_SERVICE_USERNAME"]
        )


def test_third_party_images_are_pinned(services):
    for name, service in services.items():
        if "build" in service:
            continue
        image = service["image"]
        tag = image.rpartition(":")[2] if ":" in image else "latest"
        assert tag != "latest", f"{name}: pin {image} to a version"


@pytest.mark.parametrize(("service", "ports"), sorted(PUBLISHED_PORTS.items()))
def test_published_ports(services, service, ports):
    published = {int(port.split(":")[-1]) for port in services[service]["ports"]}
    assert published == ports


def test_nothing_else_is_published(services):
    assert {name for name, service in services.items() if service.get("ports")} == set(
        PUBLISHED_PORTS
    )


CLUSTER_NODES = ("rabbitmq", "rabbitmq-b", "rabbitmq-c")


def test_the_cluster_profile_adds_two_nodes_like_the_first(services):
    profiled = {name for name, s in services.items() if "cluster" in s.get("profiles", [])}
    assert profiled == set(CLUSTER_NODES[1:])
    first = services["rabbitmq"]
    for name in CLUSTER_NODES:
        node = services[name]
        assert node["image"] == first["image"], name
        assert node["hostname"] == name, name
        assert (
            node["environment"]["RABBITMQ_ERLANG_COOKIE"]
            == (first["environment"]["RABBITMQ_ERLANG_COOKIE"])
        ), f"{name} must share the first node's cookie"
        mounted = {target: source for source, target in bind_mounts(node)}
        first_mounted = {target: source for source, target in bind_mounts(first)}
        for target in ("/etc/rabbitmq/definitions.json", "/etc/rabbitmq/rabbitmq.conf"):
            assert mounted[target] == first_mounted[target], name


def test_the_joining_nodes_find_every_node_of_the_cluster(services):
    conf = (REPOSITORY / "infra" / "rabbitmq" / "cluster.conf").read_text()
    listed = [line.split("=")[1].strip() for line in conf.splitlines() if ".nodes." in line]
    assert listed == [f"rabbit@{name}" for name in CLUSTER_NODES]
    for name in CLUSTER_NODES[1:]:
        sources = {source for source, _target in bind_mounts(services[name])}
        assert "infra/rabbitmq/cluster.conf" in {s.removeprefix("./") for s in sources}, name


def test_every_client_names_every_node_in_order(services):
    for name, service in services.items():
        url = (service.get("environment") or {}).get("BROKER_URL")
        if url is None:
            continue
        hosts = [node.split("@")[1].split(":")[0] for node in broker_urls(url)]
        assert hosts == list(CLUSTER_NODES), name
