"""The RS256 signing key: loaded from a PEM file, or generated once into the data directory."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

GENERATED_KEY_NAME = "jwt-private-key.pem"


@dataclass(frozen=True)
class SigningKey:
    private_key: rsa.RSAPrivateKey
    kid: str

    def public_jwk(self) -> dict:
        jwk = json.loads(RSAAlgorithm.to_jwk(self.private_key.public_key()))
        return {**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}


def _thumbprint(private_key: rsa.RSAPrivateKey) -> str:
    """RFC 7638 thumbprint: stable across restarts, so caches of the JWKS stay valid."""
    jwk = json.loads(RSAAlgorithm.to_jwk(private_key.public_key()))
    canonical = json.dumps({k: jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _read_private_key(path: Path) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path} does not hold an RSA private key")
    return key


def _generate_once(path: Path) -> None:
    """Write a new key to ``path`` unless one is there; safe when several processes race."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".key-")
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, pem)
        os.close(fd)
        # link() fails if the name exists, so the first writer wins and the others read it.
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)


def load_signing_key(key_file: Path | None, data_dir: Path) -> SigningKey:
    """Return the configured key, or the one kept in ``data_dir`` (made on first use)."""
    if key_file is None:
        key_file = data_dir / GENERATED_KEY_NAME
        if not key_file.exists():
            _generate_once(key_file)
    private_key = _read_private_key(key_file)
    return SigningKey(private_key=private_key, kid=_thumbprint(private_key))
