"""The RS256 signing key: generated once into the data directory, or read from a PEM file."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from appstore.security.keys import GENERATED_KEY_NAME, load_signing_key


def _pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _rfc7638_thumbprint(public_key: rsa.RSAPublicKey) -> str:
    numbers = public_key.public_numbers()
    jwk = {"e": _b64(numbers.e), "kty": "RSA", "n": _b64(numbers.n)}
    canonical = json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()


def test_key_is_generated_once_into_the_data_dir(tmp_path):
    data_dir = tmp_path / "data"
    first = load_signing_key(None, data_dir)
    key_file = data_dir / GENERATED_KEY_NAME
    assert key_file.exists()
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in data_dir.iterdir()] == [GENERATED_KEY_NAME]
    assert first.private_key.key_size >= 2048
    pem = key_file.read_bytes()

    again = load_signing_key(None, data_dir)
    assert again.kid == first.kid
    assert key_file.read_bytes() == pem
    assert again.private_key.private_numbers() == first.private_key.private_numbers()


def test_kid_is_the_rfc7638_thumbprint(tmp_path):
    key = load_signing_key(None, tmp_path)
    assert key.kid == _rfc7638_thumbprint(key.private_key.public_key())


def test_public_jwk_has_no_private_part(tmp_path):
    key = load_signing_key(None, tmp_path)
    jwk = key.public_jwk()
    assert jwk["kid"] == key.kid
    assert jwk["kty"] == "RSA"
    assert jwk["alg"] == "RS256"
    assert jwk["use"] == "sig"
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(jwk)


def test_other_data_dirs_get_other_keys(tmp_path):
    assert load_signing_key(None, tmp_path / "a").kid != load_signing_key(None, tmp_path / "b").kid


def test_concurrent_generators_leave_one_key(tmp_path):
    workers = 8
    start = threading.Barrier(workers)

    def generate(_):
        start.wait()
        return load_signing_key(None, tmp_path).kid

    with ThreadPoolExecutor(workers) as pool:
        kids = set(pool.map(generate, range(workers)))
    assert len(kids) == 1
    assert [p.name for p in tmp_path.iterdir()] == [GENERATED_KEY_NAME]
    assert load_signing_key(None, tmp_path).kid == kids.pop()


def test_a_configured_pem_file_is_used(tmp_path):
    configured = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "signing.pem"
    key_file.write_bytes(_pem(configured))
    data_dir = tmp_path / "data"
    data_dir.mkdir()

    key = load_signing_key(key_file, data_dir)
    assert key.private_key.private_numbers() == configured.private_numbers()
    assert key.kid == _rfc7638_thumbprint(configured.public_key())
    assert list(data_dir.iterdir()) == []


def test_a_configured_non_rsa_key_is_refused(tmp_path):
    key_file = tmp_path / "ec.pem"
    key_file.write_bytes(_pem(ec.generate_private_key(ec.SECP256R1())))
    with pytest.raises(ValueError, match="RSA"):
        load_signing_key(key_file, tmp_path)


def test_a_missing_configured_file_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_signing_key(tmp_path / "absent.pem", tmp_path)
    assert not (tmp_path / GENERATED_KEY_NAME).exists()
