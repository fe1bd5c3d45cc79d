"""Worker keys (Ed25519, ``cryptography``) and the keyring of trusted workers.

A worker's private key is one PEM file (PKCS#8, unencrypted) written with mode 0600 in the data
directory (``distributed.worker_key``, default ``<data_dir>/trust/worker.key``). A worker is
named by its key: ``ed25519:`` and the first 16 bytes of the BLAKE3 hash of its raw public key,
so an id cannot be claimed without the key. The keyring (``distributed.keyring``, default
``<data_dir>/trust/keyring.json``) maps worker ids to raw public keys (hex)::

    {"workers": {"ed25519:3f2a...": {"public_key": "9c1d...", "name": "gpu-node-3"}}}
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import blake3
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from scipix.errors import ConfigError, StoreError

PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64


def worker_id_of(public: bytes) -> str:
    """The id of the worker holding the key whose raw public key is ``public``."""
    return "ed25519:" + blake3.blake3(public).hexdigest(length=16)


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True)
class WorkerKey:
    """One worker's signing key."""

    private: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> WorkerKey:
        return cls(Ed25519PrivateKey.generate())

    @property
    def public(self) -> bytes:
        return raw_public(self.private.public_key())

    @property
    def worker_id(self) -> str:
        return worker_id_of(self.public)

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)

    def save(self, path: Path, exclusive: bool = False) -> None:
        """Write the key as PKCS#8 PEM, readable by its owner only (0600), atomically; with
        ``exclusive``, a file already there is kept (FileExistsError)."""
        pem = self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
            os.chmod(tmp, 0o600)
            if exclusive:
                os.link(tmp, path)  # fails when another process made the key first
            else:
                os.replace(tmp, path)
        except FileExistsError:
            raise
        except OSError as exc:
            raise StoreError(f"cannot write the worker key {path}: {exc.strerror}") from exc
        finally:
            tmp.unlink(missing_ok=True)

    @classmethod
    def load(cls, path: Path) -> WorkerKey:
        """Read a key written by :meth:`save`; a file others may read is refused."""
        try:
            mode = path.stat().st_mode & 0o777
            data = path.read_bytes()
        except OSError as exc:
            raise StoreError(f"cannot read the worker key {path}: {exc.strerror}") from exc
        if mode & 0o077:
            raise ConfigError(
                f"the worker key {path} is readable by others (mode {mode:o}); "
                f"run: chmod 600 {path}",
                path=str(path),
            )
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{path} is not a PEM private key: {exc}", path=str(path)) from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigError(f"{path} is not an Ed25519 key", path=str(path))
        return cls(key)

    @classmethod
    def load_or_create(cls, path: Path) -> WorkerKey:
        """This worker's key: read from ``path``, or made and saved there on first use."""
        if path.exists():
            return cls.load(path)
        key = cls.generate()
        try:
            key.save(path, exclusive=True)
        except FileExistsError:  # another worker of this machine made it meanwhile
            return cls.load(path)
        return key


def verify_signature(public: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass
class Keyring:
    """The workers whose attestations are trusted: worker id -> raw public key."""

    keys: dict[str, bytes] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    def trust(self, public: bytes, name: str = "") -> str:
        """Trust the key ``public`` (raw, 32 bytes); returns its worker id."""
        if len(public) != PUBLIC_KEY_BYTES:
            raise ConfigError(f"an Ed25519 public key has 32 bytes, not {len(public)}")
        worker = worker_id_of(public)
        self.keys[worker] = public
        if name:
            self.names[worker] = name
        return worker

    def public_key(self, worker: str) -> bytes | None:
        return self.keys.get(worker)

    def __contains__(self, worker: object) -> bool:
        return worker in self.keys

    @classmethod
    def load(cls, path: Path) -> Keyring:
        """The keyring at ``path`` (empty when there is no file yet)."""
        if not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            workers = data["workers"]
            ring = cls()
            for worker, entry in workers.items():
                public = bytes.fromhex(entry["public_key"])
                if ring.trust(public, str(entry.get("name", ""))) != worker:
                    raise ValueError(f"worker id {worker} does not belong to its public key")
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"the keyring {path} is malformed: {exc}", path=str(path)) from exc
        return ring

    def save(self, path: Path) -> None:
        workers = {
            worker: {"public_key": public.hex(), "name": self.names.get(worker, "")}
            for worker, public in sorted(self.keys.items())
        }
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
            tmp.write_text(json.dumps({"workers": workers}, indent=2) + "\n", encoding="utf-8")
            os.replace(tmp, path)  # several workers of one machine may save at once
        except OSError as exc:
            raise StoreError(f"cannot write the keyring {path}: {exc.strerror}") from exc
