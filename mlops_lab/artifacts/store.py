"""The content-addressed artifact store.

A blob's id is the SHA-256 of its bytes, stored at ``<hash[:2]>/<hash>``
under the workspace's artifact location, with one catalog row each (hash,
size, media type, created at, producing run). Identical content is stored
once; blobs are written atomically and never overwritten (except to repair one
found damaged by writing the same bytes again).

Every read is verified: the bytes are hashed, or (on a local folder) the blob's
stat matches a verified-at stamp taken since it last changed (see
:mod:`~mlops_lab.artifacts.verified`). Tools that read files themselves (DuckDB's
``read_parquet``) take the path from :meth:`ArtifactStore.verified_path`. A
damaged blob raises :class:`ArtifactCorruptError` naming what uses it. The
catalog row (:class:`Artifact`, :func:`register_artifact`) is in
:mod:`~mlops_lab.artifacts.records`.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import mimetypes
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from mlops_lab.artifacts.location import BlobLocation
from mlops_lab.artifacts.records import (
    ARTIFACT_COLUMNS,
    OCTET_STREAM,
    PARQUET,
    Artifact,
    artifact_of,
    check_media_type,
    register_artifact,
    validate_hash,
)
from mlops_lab.artifacts.references import references
from mlops_lab.artifacts.verified import StampBook, hash_file
from mlops_lab.catalog import Catalog
from mlops_lab.errors import (
    ArtifactCorruptError,
    ArtifactNotFoundError,
    DiskFullError,
    InvalidInputError,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["STALE_TEMP_SECONDS", "ArtifactStore", "dataframe_to_parquet"]

_CHUNK = 1 << 20
STALE_TEMP_SECONDS = 3600.0
_swept_at: dict[str, float] = {}  # location URL -> when this process last swept its temps


def _key(digest: str) -> str:
    return f"{digest[:2]}/{digest}"


class ArtifactStore:
    """Put and get content-addressed blobs; every blob has a catalog row."""

    def __init__(self, location: BlobLocation, catalog: Catalog) -> None:
        self.location = location
        self.catalog = catalog
        root = location.local_path("")
        self.stamps = StampBook(root) if root is not None else None  # local folders only

    @classmethod
    def opened(cls, location: BlobLocation, catalog: Catalog) -> ArtifactStore:
        """The store of an opened workspace: stale temp files are swept (once an hour)."""
        store = cls(location, catalog)
        last = _swept_at.get(location.url)
        if last is None or time.monotonic() - last > STALE_TEMP_SECONDS:
            _swept_at[location.url] = time.monotonic()
            with contextlib.suppress(OSError):  # read-only or unreachable: reads still work
                store.clean_temp()
        return store

    def __repr__(self) -> str:
        return f"ArtifactStore({self.location.url!r})"

    # -- writing ----------------------------------------------------------------

    def put_stream(
        self,
        chunks: Iterable[bytes],
        *,
        media_type: str = OCTET_STREAM,
        run_id: str | None = None,
    ) -> Artifact:
        """Store the concatenation of ``chunks`` (hashed while written, in one pass)."""
        check_media_type(media_type)
        digest, size = self.write_blob(chunks)

        def insert_and_read(con: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
            register_artifact(con, digest, size=size, media_type=media_type, run_id=run_id)
            query = f"SELECT {ARTIFACT_COLUMNS} FROM artifacts WHERE hash = ?"
            row = con.execute(query, [digest]).fetchone()
            assert row is not None
            return row

        return artifact_of(self.catalog.transaction(insert_and_read))

    def write_blob(self, chunks: Iterable[bytes]) -> tuple[str, int]:
        """Store a blob without a catalog row; return its hash and size.

        For writers that register the row later in a transaction of their own
        (a pipeline stage's outputs are committed only when the stage succeeds)
        with :func:`register_artifact`.
        """
        digest = hashlib.sha256()
        size = 0
        try:
            temp = self.location.begin_write()
        except OSError as exc:
            full = _disk_full(self.location, exc)
            if full is None:
                raise
            raise full from exc
        try:

            def counted() -> Iterator[bytes]:
                nonlocal size
                for chunk in chunks:
                    digest.update(chunk)
                    size += len(chunk)
                    yield chunk

            temp.write(counted())
            key = _key(digest.hexdigest())
            # Writing the same bytes again repairs a damaged blob.
            damaged = self.stamps is not None and self.location.exists(key)
            damaged = damaged and not self._intact(digest.hexdigest())
            if temp.publish(key, overwrite=damaged):
                self._stamp(digest.hexdigest())  # hashed while written: verified now
        except BaseException as exc:
            temp.discard()
            full = _disk_full(self.location, exc) if isinstance(exc, OSError) else None
            if full is not None:
                raise full from exc
            raise
        return digest.hexdigest(), size

    def put_bytes(
        self, data: bytes, *, media_type: str = OCTET_STREAM, run_id: str | None = None
    ) -> Artifact:
        """Store ``data``; identical bytes are stored once."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise InvalidInputError(f"put_bytes takes bytes, got {type(data).__name__}.")
        return self.put_stream([bytes(data)], media_type=media_type, run_id=run_id)

    def put_file(
        self, path: Path | str, *, media_type: str | None = None, run_id: str | None = None
    ) -> Artifact:
        """Store a local file's content; the media type is guessed from its name if not given."""
        source = Path(path)
        if not source.is_file():
            raise InvalidInputError(f"Cannot store {source}: it is not a readable file.")
        guessed = media_type or mimetypes.guess_type(source.name)[0] or OCTET_STREAM
        with source.open("rb") as handle:
            return self.put_stream(
                iter(lambda: handle.read(_CHUNK), b""), media_type=guessed, run_id=run_id
            )

    def put_dataframe(self, frame: pd.DataFrame, *, run_id: str | None = None) -> Artifact:
        """Store a DataFrame as Parquet (zstd); equal frames give the same artifact."""
        return self.put_bytes(dataframe_to_parquet(frame), media_type=PARQUET, run_id=run_id)

    # -- reading ----------------------------------------------------------------

    def info(self, digest: str) -> Artifact:
        """The catalog record of an artifact."""
        rows = self.catalog.read(
            f"SELECT {ARTIFACT_COLUMNS} FROM artifacts WHERE hash = ?", [validate_hash(digest)]
        )
        if not rows:
            raise ArtifactNotFoundError(digest)
        return artifact_of(rows[0])

    def exists(self, digest: str) -> bool:
        """True when the artifact has a catalog row and its blob is present."""
        validate_hash(digest)
        known = self.catalog.read_value("SELECT count(*) FROM artifacts WHERE hash = ?", [digest])
        return bool(known) and self.location.exists(_key(digest))

    def get_bytes(self, digest: str, *, check_catalog: bool = True) -> bytes:
        """The artifact's bytes, verified (hashed, or unchanged since last verified).

        ``check_catalog=False`` reads a blob written but not registered yet (an
        output of the pipeline stage that is still running).
        """
        if check_catalog:
            self.info(digest)
        else:
            validate_hash(digest)
        key = _key(digest)
        path = self.location.local_path(key)
        if path is None or self.stamps is None:
            if not self.location.exists(key):
                raise ArtifactNotFoundError(digest)
            with self.location.open_read(key) as handle:
                data = handle.read()
            self._check(digest, hashlib.sha256(data).hexdigest())
            return data
        try:
            with path.open("rb") as local:
                st = os.fstat(local.fileno())
                data = local.read()
        except FileNotFoundError:
            raise ArtifactNotFoundError(digest) from None
        if not self.stamps.trusted(digest, st):
            self._check(digest, hashlib.sha256(data).hexdigest())
            self.stamps.record(digest, st)
        return data

    def get_dataframe(self, digest: str, *, check_catalog: bool = True) -> pd.DataFrame:
        """A Parquet artifact read back as a DataFrame (hash verified)."""
        import pyarrow.parquet as pq

        data = self.get_bytes(digest, check_catalog=check_catalog)
        frame: pd.DataFrame = pq.read_table(io.BytesIO(data)).to_pandas()
        return frame

    def verify(self, digest: str) -> Artifact:
        """Re-hash the stored blob in chunks (stamps ignored); raise if missing or corrupted."""
        artifact = self.info(digest)
        key = _key(digest)
        if not self.location.exists(key):
            raise ArtifactNotFoundError(digest)
        if self.stamps is not None:
            self._hash_and_stamp(digest)
            return artifact
        hasher = hashlib.sha256()
        with self.location.open_read(key) as handle:
            for chunk in iter(lambda: handle.read(_CHUNK), b""):
                hasher.update(chunk)
        self._check(digest, hasher.hexdigest())
        return artifact

    def verified_path(self, digest: str, *, check_catalog: bool = False) -> Path:
        """The blob's file path, for tools that read files (DuckDB ``read_parquet``),
        after checking it: re-hashed unless unchanged since last verified.

        Only for local locations. Skips the catalog lookup by default (callers read the
        hash from the catalog themselves); the file must exist.
        """
        path = self.local_path(digest, check_catalog=check_catalog)
        try:
            st = path.stat()
        except FileNotFoundError:
            raise ArtifactNotFoundError(digest) from None
        assert self.stamps is not None  # local_path succeeded: a local folder
        if not self.stamps.trusted(digest, st):
            self._hash_and_stamp(digest)
        return path

    def local_path(self, digest: str, *, check_catalog: bool = True) -> Path:
        """The blob's file path, *not* verified: read through :meth:`verified_path`.

        Only for local locations.
        ``check_catalog=False`` skips the catalog lookup (one session) for callers that
        just read the hash from the catalog themselves; the file must still exist.
        """
        if check_catalog:
            self.info(digest)
        path = self.location.local_path(_key(validate_hash(digest)))
        if path is None:
            raise InvalidInputError(
                f"The artifact store {self.location.url} is not a local folder; "
                "read the artifact with get_bytes() instead."
            )
        if not check_catalog and not path.is_file():
            raise ArtifactNotFoundError(digest)
        return path

    def list(self, *, limit: int = 100, offset: int = 0) -> list[Artifact]:
        """Artifacts, newest first, one page at a time."""
        if limit < 1 or offset < 0:
            raise InvalidInputError("limit must be at least 1 and offset at least 0.")
        rows = self.catalog.read(
            f"SELECT {ARTIFACT_COLUMNS} FROM artifacts "
            "ORDER BY created_at DESC, hash LIMIT ? OFFSET ?",
            [limit, offset],
        )
        return [artifact_of(row) for row in rows]

    def clean_temp(self, *, older_than: float = STALE_TEMP_SECONDS) -> int:
        """Remove temp files that killed writers left behind; return how many."""
        return self.location.remove_stale_temps(older_than)

    # -- verification -----------------------------------------------------------

    def _check(self, digest: str, actual: str) -> None:
        if actual != digest:
            path = self.location.local_path(_key(digest))
            shown = str(path) if path is not None else f"{self.location.url}/{_key(digest)}"
            raise ArtifactCorruptError(
                digest, actual, path=shown, references=references(self.catalog, digest)
            )

    def _hash_and_stamp(self, digest: str) -> None:
        """Hash a local blob; stamp it if it matched and did not change meanwhile."""
        path = self.location.local_path(_key(digest))
        assert path is not None and self.stamps is not None
        before = path.stat()
        self._check(digest, hash_file(path))
        after = path.stat()
        if (before.st_mtime_ns, before.st_ctime_ns, before.st_ino) == (
            after.st_mtime_ns,
            after.st_ctime_ns,
            after.st_ino,
        ):
            self.stamps.record(digest, after)

    def _intact(self, digest: str) -> bool:
        """Whether the stored local blob ``digest`` is undamaged (or gone)."""
        path = self.location.local_path(_key(digest))
        assert path is not None and self.stamps is not None
        try:
            return self.stamps.trusted(digest, path.stat()) or hash_file(path) == digest
        except FileNotFoundError:
            return True  # nothing to repair: publishing puts it back

    def _stamp(self, digest: str) -> None:
        path = self.location.local_path(_key(digest))
        if path is not None and self.stamps is not None:
            with contextlib.suppress(OSError):  # a stamp is an optimisation; never fail a write
                self.stamps.record(digest, path.stat())


def dataframe_to_parquet(frame: pd.DataFrame) -> bytes:
    """Parquet bytes of ``frame``; equal frames give equal bytes (same library versions)."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not isinstance(frame, pd.DataFrame):
        raise InvalidInputError(f"Expected a pandas DataFrame, got {type(frame).__name__}.")
    if "mlops_lab_dataset" in frame.attrs:  # where it was loaded from: not part of the data
        frame = frame.copy(deep=False)
        frame.attrs = {k: v for k, v in frame.attrs.items() if k != "mlops_lab_dataset"}
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame), buffer, compression="zstd")
    return buffer.getvalue()


def _disk_full(location: BlobLocation, exc: OSError) -> DiskFullError | None:
    """The error to raise when ``exc`` says the disk holding the blobs is full."""
    if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
        return None
    return DiskFullError(Path(location.root), exc.strerror or str(exc))
