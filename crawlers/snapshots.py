"""Evidence: every fetched page kept compressed under ``DATA_DIR/snapshots``, addressed by content.

An alert may point at a page that is edited or deleted an hour later; the snapshot shows it as it
was. The address is the SHA-256 of the raw bytes, so a page fetched a hundred times unchanged is
stored once; which URL was fetched when is recorded in the state store (``crawlers.state``).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
from pathlib import Path

__all__ = ["SnapshotStore"]


class SnapshotStore:
    """Content-addressed gzip files: ``root/ab/cd/<sha256>.gz``.

    ``put`` is idempotent and atomic (written to a temporary file, then renamed), so a crash never
    leaves a truncated snapshot behind a valid name.
    """

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest[2:4] / f"{digest}.gz"

    def put(self, body: bytes) -> str:
        """Store ``body``; returns its SHA-256 (hex)."""
        digest = hashlib.sha256(body).hexdigest()
        target = self.path(digest)
        if target.exists():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
                gz.write(body)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def get(self, digest: str) -> bytes:
        """The bytes stored under ``digest``; FileNotFoundError when there are none."""
        with gzip.open(self.path(digest), "rb") as gz:
            return gz.read()
