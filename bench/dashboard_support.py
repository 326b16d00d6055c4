"""What the Dashboard benchmarks share: a stand-in for the Appstore's JWKS, tokens, and
``dashboard serve`` / ``dashboard worker`` as subprocesses on a throwaway database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from servicekit.testing import ProcessGroup, ServerDidNotStart, free_port, wait_ready

DASHBOARD = Path(sys.executable).with_name("dashboard")


class SigningKeys:
    """An RS256 key published as a JWKS on loopback, as the Appstore publishes its own:
    the Dashboard fetches it from ``url`` + ``/.well-known/jwks.json``."""

    def __init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = uuid.uuid4().hex
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key()))
        body = json.dumps({"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]})

        class Jwks(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *_args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def token(self, role: str = "management", ttl: int = 3600) -> str:
        now = int(time.time())
        claims = {"sub": "1", "username": "bench", "role": role, "iss": "appstore"}
        claims |= {"iat": now, "exp": now + ttl}
        return jwt.encode(claims, self._key, "RS256", headers={"kid": self.kid})

    def close(self) -> None:
        self._server.shutdown()


class Process:
    """A ``dashboard`` subcommand in its own process group, its output in a file."""

    def __init__(self, arguments: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._output = log.open("wb")
        self.group = ProcessGroup(
            [str(DASHBOARD), *arguments],
            env={**os.environ, **env},
            stdout=self._output,
            stderr=subprocess.STDOUT,
        )

    def alive(self) -> bool:
        return self.group.alive()

    def stop(self) -> None:
        self.group.stop(signal.SIGTERM, timeout=20)
        self._output.close()

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def serve(
    database_url: str,
    keys: SigningKeys,
    log: Path,
    *,
    redis_url: str | None = None,
    cache_ttl: int = 60,
    workers: int = 2,
    threads: int = 8,
) -> tuple[Process, str]:
    """Start ``dashboard serve``; return it and its base URL once ``/healthz`` answers."""
    port = free_port()
    env = {
        "DASHBOARD_DATABASE_URL": database_url,
        "APPSTORE_URL": keys.url,
        "DASHBOARD_CACHE_TTL_SECONDS": str(cache_ttl),
        "REDIS_URL": redis_url or "",
        "LOG_ACCESS": "false",
        "LOG_LEVEL": "WARNING",
    }
    arguments = ["serve", "--port", str(port), "--workers", str(workers)]
    server = Process([*arguments, "--threads", str(threads)], env, log)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, timeout=60, running=server.alive)
    except ServerDidNotStart:
        if not server.alive():
            raise RuntimeError(f"dashboard serve exited:\n{server.tail()}") from None
        server.stop()
        raise RuntimeError(f"dashboard serve did not get ready:\n{server.tail()}") from None
    return server, base


def percentile(samples: list[float], fraction: float) -> float:
    """The nearest-rank percentile of ``samples``."""
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]
