"""A local three-node RabbitMQ cluster for tests and benchmarks, driven through the
repository's ``infra/rabbitmq/cluster.sh``: start it, find which node leads a queue or
serves a client's connection, kill a node and start it again, stop it all.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from servicekit.brokers import broker_urls, rotated

#: Longest a ``cluster.sh`` command may take: three nodes booting on a busy two-core machine.
SCRIPT_SECONDS = 300


class ClusterError(RuntimeError):
    """``cluster.sh`` or ``rabbitmqctl`` failed; the message quotes what they printed."""


class Cluster:
    """A running cluster of ``cluster.sh``: its ``BROKER_URL`` and its nodes.

    Parameters:
        script: the path of ``infra/rabbitmq/cluster.sh``.
        directory: the cluster's data and logs (``CLUSTER_DIR``).
        url: ``BROKER_URL`` as ``cluster.sh up`` printed it, every node in order.
    """

    def __init__(self, script: Path, directory: Path, url: str) -> None:
        self.script = script
        self.directory = directory
        self.url = url
        self.nodes = [f"appstore-{letter}@localhost" for letter in "abc"]
        self.ports = {
            int(node_url.rsplit(":", 1)[1].strip("/")): node
            for node_url, node in zip(broker_urls(url), self.nodes, strict=True)
        }

    def url_from(self, index: int) -> str:
        """``BROKER_URL`` with the nodes in another order, starting at node ``index``: the
        node a client of it connects to while all run."""
        return ";".join(rotated(broker_urls(self.url), index))

    def kill(self, node: str) -> None:
        """SIGKILL the node's Erlang VM."""
        _run(self.script, self.directory, "kill", node)

    def start(self, node: str) -> None:
        """Start the node again and wait until it runs in the cluster."""
        _run(self.script, self.directory, "start", node)

    def status(self) -> str:
        return _run(self.script, self.directory, "status")

    def ctl(self, *args: str, node: str | None = None) -> str:
        """Run ``rabbitmqctl`` against ``node`` (by default the first one that answers)."""
        failure = ""
        for candidate in [node] if node else self.nodes:
            result = subprocess.run(
                ["rabbitmqctl", "-q", "-n", candidate, *args],
                capture_output=True,
                text=True,
                timeout=SCRIPT_SECONDS,
                check=False,
            )
            if result.returncode == 0:
                return result.stdout
            failure = result.stdout + result.stderr
        raise ClusterError(f"rabbitmqctl {' '.join(args)} failed: {failure}")

    def queues(self) -> list[dict]:
        """Every queue: ``name``, ``type``, ``leader``, ``members``."""
        raw = self.ctl("list_queues", "name", "type", "leader", "members", "--formatter", "json")
        return json.loads(raw)

    def leader(self, queue: str) -> str:
        """The node leading the quorum queue ``queue``."""
        return next(q["leader"] for q in self.queues() if q["name"] == queue)

    def node_of(self, client: Callable[[dict[str, object]], bool]) -> str:
        """The node serving the first connection whose client properties ``client`` accepts.

        Raises:
            ClusterError: no such connection.
        """
        raw = self.ctl("list_connections", "port", "client_properties", "--formatter", "json")
        for connection in json.loads(raw):
            properties = {key: value for key, _type, value in connection["client_properties"]}
            if client(properties):
                return self.ports[connection["port"]]
        raise ClusterError(f"no such client connected; connections: {raw}")


@contextmanager
def running_cluster(script: Path) -> Iterator[Cluster]:
    """Start a cluster in a fresh directory, yield it, and stop it and remove its data.

    The directory is made under the system's temporary folder: the nodes run as the
    ``rabbitmq`` user, which must reach it.
    """
    directory = Path(tempfile.mkdtemp(prefix="appstore-events-cluster-"))
    directory.chmod(0o755)
    try:
        printed = _run(script, directory, "up")
        url = printed.strip().splitlines()[-1].removeprefix("BROKER_URL=")
        yield Cluster(script, directory, url)
    finally:
        _run(script, directory, "down", check=False)


def _run(script: Path, directory: Path, *args: str, check: bool = True) -> str:
    result = subprocess.run(
        ["bash", str(script), *args],
        env={**os.environ, "CLUSTER_DIR": str(directory)},
        capture_output=True,
        text=True,
        timeout=SCRIPT_SECONDS,
        check=False,
    )
    if check and result.returncode != 0:
        raise ClusterError(
            f"cluster.sh {' '.join(args)} exited {result.returncode}: "
            f"{result.stdout}{result.stderr}"
        )
    return result.stdout
