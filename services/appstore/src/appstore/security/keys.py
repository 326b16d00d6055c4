"""The RS256 signing key: loaded from a PEM file, or generated once into the data directory;
and, during a key rotation, the previous key's public half, still trusted for a while."""

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

    @property
    def public(self) -> VerifyingKey:
        return VerifyingKey(self.private_key.public_key(), self.kid)

    def public_jwk(self) -> dict:
        return self.public.public_jwk()


@dataclass(frozen=True)
class VerifyingKey:
    """A public key that tokens may be signed with, and its ``kid``."""

    public_key: rsa.RSAPublicKey
    kid: str

    def public_jwk(self) -> dict:
        jwk = json.loads(RSAAlgorithm.to_jwk(self.public_key))
        return {**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}


def _thumbprint(key: rsa.RSAPrivateKey | rsa.RSAPublicKey) -> str:
    """RFC 7638 thumbprint: stable across restarts, so caches of the JWKS stay valid."""
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    jwk = json.loads(RSAAlgorithm.to_jwk(public))
    canonical = json.dumps({k: jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _read_private_key(path: Path) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path} does not hold an RSA private key")
    return key


def new_private_key_pem() -> bytes:
    """A new 2048-bit RSA private key, as the unencrypted PKCS #8 PEM a key file holds."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def write_private_key(path: Path) -> None:
    """Write a new key to ``path``, replacing what is there: a key file for
    ``APPSTORE_JWT_PRIVATE_KEY_FILE``."""
    path.write_bytes(new_private_key_pem())


def _generate_once(path: Path) -> None:
    """Write a new key to ``path`` unless one is there; safe when several processes race."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = new_private_key_pem()
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


def load_previous_key(key_file: Path) -> VerifyingKey:
    """The key signing tokens before the current one: a PEM public key (or the old private
    key, of which only the public half is kept). Its ``kid`` is its thumbprint, as it was
    when it signed, so tokens it signed still name it.

    Raises:
        ValueError: the file holds no RSA key.
    """
    data = key_file.read_bytes()
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        private = serialization.load_pem_private_key(data, password=None)
        key = private.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError(f"{key_file} does not hold an RSA key")
    return VerifyingKey(key, _thumbprint(key))
