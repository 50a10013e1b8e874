"""Local key-encryption key: an RSA-3072 key in a PEM file, created on first use.

Used when KEK_PROVIDER=local (development, the local host, tests). In Azure the KEK lives in
Key Vault (keyvault_kek.py); both wrap content keys with RSA-OAEP-256 and speak the interface
azure-storage-blob's client-side encryption v2 expects of a key-encryption key.

Files (never committed; *.pem is git-ignored):
    <pem_path>              the current version (mode 0600)
    <pem_path>.<version>    older versions kept by rotate(), so old blobs still decrypt

kid: ``local:kek/<version>``, version = first 16 hex digits of the SHA-256 of the public key (DER),
so the same PEM always yields the same kid.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from shared_code.adapters._rsa_kek import KEY_WRAP_ALGORITHM, public_wrapping_jwk
from shared_code.adapters.kek_operations import KEK_OPERATIONS
from shared_code.ports import EncryptionRejected, KeyEncryptionKey, UnknownKey

KEY_SIZE = 3072
KID_PREFIX = "local:kek/"

_OAEP_256 = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def key_version(public_key: rsa.RSAPublicKey) -> str:
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()[:16]


class LocalRsaKek:
    """One version of the local KEK (implements ports.KeyEncryptionKey)."""

    def __init__(self, private_key: rsa.RSAPrivateKey) -> None:
        self._private_key = private_key
        self._public_key = private_key.public_key()
        self.version = key_version(self._public_key)
        self._kid = KID_PREFIX + self.version

    def wrap_key(self, key: bytes) -> bytes:
        KEK_OPERATIONS.record("wrap")
        return self._public_key.encrypt(key, _OAEP_256)

    def unwrap_key(self, key: bytes, algorithm: str) -> bytes:
        if algorithm != KEY_WRAP_ALGORITHM:
            raise EncryptionRejected("unsupported-encryption", f"key wrap algorithm {algorithm!r} is not allowed")
        KEK_OPERATIONS.record("unwrap")
        try:
            return self._private_key.decrypt(key, _OAEP_256)
        except ValueError:
            # OAEP failed: the content key was wrapped under some other RSA key (or altered).
            raise UnknownKey(self._kid) from None

    def get_kid(self) -> str:
        return self._kid

    def get_key_wrap_algorithm(self) -> str:
        return KEY_WRAP_ALGORITHM

    def public_jwk(self) -> dict[str, Any]:
        numbers = self._public_key.public_numbers()
        return public_wrapping_jwk(numbers.n, numbers.e, self._kid)


class LocalKekProvider:
    """ports.KeyEncryptionKeyProvider backed by PEM files. Thread-safe; several processes may share
    the files (creation is atomic: the first writer wins, the others read its key)."""

    def __init__(self, pem_path: str | os.PathLike[str], *, key_size: int = KEY_SIZE) -> None:
        self._path = Path(pem_path)
        self._key_size = key_size
        self._lock = threading.Lock()
        self._current: LocalRsaKek | None = None
        self._current_stamp: tuple[int, int, int] | None = None
        self._versions: dict[str, LocalRsaKek] = {}

    # ------------------------------------------------------------ port
    def current(self) -> KeyEncryptionKey:
        return self._current_kek()

    def resolve(self, kid: str) -> KeyEncryptionKey:
        if not isinstance(kid, str) or not kid.startswith(KID_PREFIX):
            raise UnknownKey(str(kid))
        version = kid[len(KID_PREFIX) :]
        with self._lock:
            self._load_current_locked()
            kek = self._versions.get(version)
            if kek is None:
                self._load_archived_locked()  # another process may have rotated
                kek = self._versions.get(version)
        if kek is None:
            raise UnknownKey(kid)
        return kek

    def public_jwk(self) -> dict[str, Any]:
        return self._current_kek().public_jwk()

    # ------------------------------------------------------------ rotation
    def rotate(self) -> KeyEncryptionKey:
        """Archive the current PEM as <pem>.<version> and create a new current key."""
        with self._lock:
            old = self._load_current_locked()
            archived = self._path.with_name(f"{self._path.name}.{old.version}")
            if not archived.exists():
                os.link(self._path, archived)
            new_key = rsa.generate_private_key(public_exponent=65537, key_size=self._key_size)
            tmp = self._write_tmp(new_key)
            os.replace(tmp, self._path)
            self._current = None
            return self._load_current_locked()

    def versions(self) -> list[str]:
        """Versions (kids' suffixes) present on disk, current first."""
        with self._lock:
            current = self._load_current_locked()
            self._load_archived_locked()
            return [current.version] + sorted(v for v in self._versions if v != current.version)

    # ------------------------------------------------------------ files
    def _current_kek(self) -> LocalRsaKek:
        with self._lock:
            return self._load_current_locked()

    def _load_current_locked(self) -> LocalRsaKek:
        """The current version; re-read when the file changed (another process rotated)."""
        try:
            stamp = self._stamp()
        except FileNotFoundError:
            self._create_locked()
            stamp = self._stamp()
        if self._current is not None and stamp == self._current_stamp:
            return self._current
        kek = LocalRsaKek(self._read_pem(self._path))
        self._versions[kek.version] = kek
        self._current, self._current_stamp = kek, stamp
        return kek

    def _stamp(self) -> tuple[int, int, int]:
        st = os.stat(self._path)
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _load_archived_locked(self) -> None:
        for candidate in self._path.parent.glob(f"{self._path.name}.*"):
            suffix = candidate.name[len(self._path.name) + 1 :]
            if suffix in self._versions or suffix.startswith("tmp"):
                continue
            try:
                kek = LocalRsaKek(self._read_pem(candidate))
            except (ValueError, TypeError, OSError):
                continue
            if kek.version == suffix:  # a file whose name disagrees with its key is ignored
                self._versions[kek.version] = kek

    def _create_locked(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = rsa.generate_private_key(public_exponent=65537, key_size=self._key_size)
        tmp = self._write_tmp(key)
        try:
            os.link(tmp, self._path)  # atomic, fails if another process created it first
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)

    def _write_tmp(self, key: rsa.RSAPrivateKey) -> Path:
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        tmp = self._path.with_name(f"{self._path.name}.tmp{os.getpid()}.{threading.get_ident()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, pem)
            os.fsync(fd)
        finally:
            os.close(fd)
        return tmp

    @staticmethod
    def _read_pem(path: Path) -> rsa.RSAPrivateKey:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError(f"{path.name} does not hold an RSA private key")
        return key
