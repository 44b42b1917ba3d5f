"""The run store: one folder per run on disk, and a DuckDB catalogue of runs.

Layout of a store root (default ``./socialscore-runs``, or ``$SOCIALSCORE_RUNS``)::

    ROOT/
      catalogue.duckdb          the catalogue (tables ``runs``, ``metrics``,
                                ``comparisons`` and ``sweep_runs``)
      catalogue.lock            OS lock taken around every catalogue access
      .incomplete/<run_id>/     runs being written (with ``.writer.json``)
      .removing/<run_id>/       runs being deleted (:meth:`RunStore.remove`)
      <run_id>/                 complete runs
        <table>.parquet ...     tables written by the run
        <name> ...              text files (scenario copy, its hash, ...)
        metrics.parquet         the run's metrics (metric, subject, grp, value)
        meta.json               the run's :class:`RunMeta`
        manifest.json           every other file with its size and sha256

Guarantees:

* A run folder is complete or absent. A run is written into
  ``ROOT/.incomplete/<run_id>/``; ``finish`` writes ``manifest.json``, fsyncs
  every file and the folder, then renames the folder to ``ROOT/<run_id>/``
  (an atomic ``rename(2)`` on the same file system) and fsyncs the parents.
* The catalogue never lists a run whose files are missing: the rows of a run
  are inserted, in one transaction, only after its folder has been renamed
  into place. A crash between the rename and the insert leaves a complete,
  uncatalogued folder, which :meth:`RunStore.reconcile` registers from its
  ``meta.json`` and ``metrics.parquet``. Reads (:meth:`RunStore.list_runs`,
  :meth:`RunStore.metrics`) also hide rows whose folder was damaged by hand.
* Many processes may use one store at once. DuckDB lets only one process
  open a database file for writing, so every connect → work → close is done
  while holding an exclusive ``flock`` on ``ROOT/catalogue.lock``; DuckDB
  lock conflicts are retried with backoff as a second line of defence.
* A query never changes the catalogue and never holds the lock while it runs:
  it reads a private copy taken under the lock (:meth:`RunStore.catalogue_snapshot`,
  used by :mod:`socialscore.store.query`).
* A full disk is reported as :class:`DiskFullError` in one line: a run cut
  short leaves nothing behind, and a run whose folder is complete but whose
  catalogue insert failed is listed by the next :meth:`RunStore.reconcile`.
* A removed run is gone whole: :meth:`RunStore.remove` moves its folder
  aside (out of every reader's sight), deletes its catalogue rows in one
  transaction, then deletes the folder. Cut short anywhere, it leaves at most
  rows whose folder is gone (hidden, dropped by :meth:`RunStore.reconcile`)
  and a folder under ``.removing`` (deleted by the next reconcile); nothing
  brings the run back.
* A run is named by its id, a unique prefix of its id, or ``latest``
  (:meth:`RunStore.resolve`).
* :meth:`RunStore.check_writable` tells, before any simulation, whether runs
  can be written under the root.

The lock uses ``fcntl`` and therefore needs a POSIX system.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import random
import re
import shlex
import shutil
import socket
import tempfile
import threading
import time
import unicodedata
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from socialscore.store.defaults import DEFAULT_ROOT
from socialscore.store.durable import (
    fsync_dir,
    hash_and_fsync,
    replace_file,
    sha256,
    write_durably,
)
from socialscore.system.interrupts import signals_deferred

__all__ = [
    "DEFAULT_ROOT",
    "LATEST",
    "AmbiguousRunError",
    "CatalogueError",
    "DiskFullError",
    "OutputLocationError",
    "RunMeta",
    "RunNotFoundError",
    "RunStore",
    "RunWriter",
]

T = TypeVar("T")

CATALOGUE_FILE = "catalogue.duckdb"
LOCK_FILE = "catalogue.lock"
INCOMPLETE_DIR = ".incomplete"
REMOVING_DIR = ".removing"
"""Folder under the root where :meth:`RunStore.remove` moves a run before deleting it."""
LATEST = "latest"
"""The run reference naming the newest complete run (:meth:`RunStore.resolve`)."""
CANDIDATES_SHOWN = 5
"""Runs an ambiguous prefix's error names."""
MANIFEST_FILE = "manifest.json"
META_FILE = "meta.json"
METRICS_TABLE = "metrics"
WRITER_FILE = ".writer.json"
"""File inside a temporary run folder naming the writer process (pid, host)."""

MANIFEST_FORMAT = 1
PARQUET_COMPRESSION = "zstd"

LOCK_TIMEOUT_SECONDS = 300.0
"""Longest wait for ``catalogue.lock`` before giving up with a clear error."""
RETRY_SECONDS = 20.0
"""Longest time spent retrying DuckDB lock conflicts on one operation."""
STALE_INCOMPLETE_SECONDS = 600.0
"""Age after which a temporary run folder without a writer file is removed."""

METRICS_SCHEMA = pa.schema(
    [
        pa.field("metric", pa.string()),
        pa.field("subject", pa.string()),
        pa.field("grp", pa.string()),
        pa.field("value", pa.float64()),
        pa.field("ci_low", pa.float64()),
        pa.field("ci_high", pa.float64()),
        pa.field("day_from", pa.int32()),
        pa.field("day_to", pa.int32()),
    ]
)
#: Columns a metrics table may lack (written by older versions): read as null.
OPTIONAL_METRIC_COLUMNS = ("ci_low", "ci_high", "day_from", "day_to")
#: Files rebuilt from a run's tables (the HTML report): listed in the manifest
#: but not required for the run to count as complete, and replaceable later.
DERIVED_FILES = frozenset({"report.html"})
RESERVED_FILES = frozenset({MANIFEST_FILE, META_FILE, f"{METRICS_TABLE}.parquet", WRITER_FILE})

_METRIC_COLUMNS = ", ".join(METRICS_SCHEMA.names)

_RUN_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
_FILE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")

_SCHEMA_SQL = (
    """
    CREATE TABLE IF NOT EXISTS runs (
        run_id VARCHAR PRIMARY KEY,
        scenario_name VARCHAR,
        scenario_sha256 VARCHAR,
        seed BIGINT,
        population BIGINT,
        companies BIGINT,
        days INTEGER,
        created_at TIMESTAMP,
        wall_seconds DOUBLE,
        path VARCHAR,
        version VARCHAR,
        tags VARCHAR
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS metrics (
        run_id VARCHAR,
        metric VARCHAR,
        subject VARCHAR,
        grp VARCHAR,
        value DOUBLE,
        ci_low DOUBLE,
        ci_high DOUBLE,
        day_from INTEGER,
        day_to INTEGER
    )
    """,
    "ALTER TABLE metrics ADD COLUMN IF NOT EXISTS ci_low DOUBLE",
    "ALTER TABLE metrics ADD COLUMN IF NOT EXISTS ci_high DOUBLE",
    "ALTER TABLE metrics ADD COLUMN IF NOT EXISTS day_from INTEGER",
    "ALTER TABLE metrics ADD COLUMN IF NOT EXISTS day_to INTEGER",
    "CREATE TABLE IF NOT EXISTS sweep_runs (sweep_id VARCHAR, run_key VARCHAR, point INTEGER, "
    "seed BIGINT, params VARCHAR, status VARCHAR, run_id VARCHAR, error VARCHAR, "
    "seconds DOUBLE, recorded_at TIMESTAMP)",
    "CREATE TABLE IF NOT EXISTS comparisons (compare_id VARCHAR, scenario VARCHAR, "
    "metric VARCHAR, subject VARCHAR, grp VARCHAR, mean DOUBLE, difference DOUBLE, "
    "ci_low DOUBLE, ci_high DOUBLE)",
)
_COMPARISON_COLUMNS = (
    "compare_id",
    "scenario",
    "metric",
    "subject",
    "grp",
    "mean",
    "difference",
    "ci_low",
    "ci_high",
)
_RUN_COLUMNS = (
    "run_id, scenario_name, scenario_sha256, seed, population, companies, days, "
    "created_at, wall_seconds, path, version, tags"
)

# Error messages (named so that tests and callers can match them).
MSG_RUN_NOT_FOUND = (
    "No run {run_id!r} in the run store at {root}: give a run id, a unique start of one, "
    "or 'latest'. List the runs with `socialscore runs --out {root_arg}`."
)
MSG_NO_RUNS_YET = (
    "The run store at {root} holds no run yet, so 'latest' names none. Make one with "
    "`socialscore run --out {root_arg}`."
)
MSG_RUN_AMBIGUOUS = (
    "{prefix!r} starts {count} run ids in the run store at {root}: {candidates}{more}. "
    "Give more of the id (`socialscore runs --out {root_arg}` lists them)."
)
MSG_RUN_DAMAGED = (
    "Run {run_id!r} in the run store at {root} is damaged: files listed in its "
    "manifest are missing or have the wrong size. RunStore.reconcile() will drop it "
    "from the catalogue."
)
MSG_BAD_RUN_ID = (
    "Invalid run id {run_id!r}: a run id starts with a letter or digit and contains "
    "only letters, digits, '.', '_' and '-' (at most 200 characters)."
)
MSG_BAD_FILE_NAME = (
    "Invalid file name {name!r}: names start with a letter or digit and contain only "
    "letters, digits, '.', '_' and '-' (no folders)."
)
MSG_NOT_DERIVED = "{name!r} is not a derived file of a run; derived files: {derived}."
MSG_RESERVED_NAME = "{name!r} is written by the store itself; reserved names are {reserved}."
MSG_DUPLICATE_FILE = "{name!r} was already written in run {run_id!r}."
MSG_RUN_EXISTS = "Run {run_id!r} already exists (or is being written) in the run store at {root}."
MSG_NOT_FINISHED = (
    "The writing block of run {run_id!r} ended without writer.finish(meta, metrics); "
    "the partial run was discarded."
)
MSG_ALREADY_FINISHED = "Run {run_id!r} is already finished; nothing more can be written."
MSG_META_RUN_ID = "RunMeta.run_id is {meta_id!r} but this writer writes run {run_id!r}."
MSG_METRICS_COLUMNS = (
    "The metrics table must have columns metric (string), subject (string), grp (string) "
    "and value (float64), and may have ci_low, ci_high (float64), day_from and day_to "
    "(int32); got {schema}."
)
MSG_TAGS_NOT_JSON = "RunMeta.tags of run {run_id!r} must be JSON-serialisable: {error}"
MSG_TABLE_NOT_FOUND = (
    "Run {run_id!r} has no table {name!r} (looked for {path}). Tables of this run: {tables}."
)
MSG_LOCK_TIMEOUT = (
    "Gave up after {seconds:.0f} s waiting for the catalogue lock {path}; another process holds it."
)
MSG_CATALOGUE_BUSY = (
    "The run catalogue {path} stayed unavailable for {seconds:.0f} s ({error}). "
    "No run was lost: complete run folders are registered by RunStore.reconcile()."
)
MSG_OUT_NOT_WRITABLE = (
    "Cannot write runs to {path}: {reason}. Give --out a folder you can write to; "
    "nothing was simulated."
)
MSG_OUT_IS_FILE = "it is a file, not a folder"
MSG_OUT_PARENT_IS_FILE = "{parent} is a file, not a folder"
MSG_DISK_FULL_RUN = (
    "The disk holding the run store {root} is full ({error}); run {run_id!r} was not kept. "
    "Free some space and run the same command again (same scenario and seed, same run)."
)
MSG_DISK_FULL_CATALOGUE = (
    "The disk holding the catalogue {path} is full ({error}); the catalogue is unchanged. "
    "Free some space and run the command again."
)
MSG_DISK_FULL_REGISTER = (
    "Run {run_id!r} is complete in {path}, but the disk is full ({error}) so the catalogue "
    "does not list it yet. Free some space, then `socialscore runs` (RunStore.reconcile()) "
    "lists it."
)
MSG_CATALOGUE_IO = "Cannot use the run catalogue {path}: {error}"
MSG_SNAPSHOT_FAILED = (
    "Cannot copy the run catalogue {path} to {tmp} to query it: {error}. If the temporary "
    "folder is full, set TMPDIR to a folder with room."
)
MSG_BAD_META = "Cannot read {path}: {error}"
MSG_META_FOLDER_MISMATCH = "Skipping run folder {path}: its meta.json names run {meta_id!r}."


class RunNotFoundError(LookupError):
    """A run id that the store does not hold (or whose files are damaged)."""


class AmbiguousRunError(RunNotFoundError):
    """A prefix that starts more than one run id (the message names some of them)."""


class CatalogueError(RuntimeError):
    """The catalogue could not be read or written, even after retries."""


class OutputLocationError(ValueError):
    """The store root cannot hold runs (read-only, a file, not creatable, ...)."""


class DiskFullError(OSError):
    """The disk filled up while a run or the catalogue was written (message says what was kept)."""


_DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
_DISK_FULL_TEXTS = ("no space left on device", "disk quota exceeded")


def _is_disk_full(exc: BaseException) -> bool:
    """Whether an exception (OSError, DuckDB or Arrow error) says the disk is full."""
    if isinstance(exc, OSError) and exc.errno in _DISK_FULL_ERRNOS:
        return True
    text = str(exc).lower()
    return isinstance(exc, OSError | duckdb.Error) and any(t in text for t in _DISK_FULL_TEXTS)


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (DuckDB adds context lines)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back the open transaction, if any, without masking the error that ended it.

    After a failed commit DuckDB has already ended the transaction, and a
    second rollback would raise "cannot rollback - no transaction is active"
    in place of the real cause (a full disk, say).
    """
    with contextlib.suppress(duckdb.Error):
        con.rollback()


@dataclass(frozen=True)
class RunMeta:
    """What the catalogue knows about one run.

    Attributes:
        run_id: Unique id of the run (see :meth:`RunStore.new_run_id`).
        scenario_name: Name of the scenario that was run.
        scenario_sha256: sha256 of the scenario file, hex.
        seed: Master random seed.
        population: Number of citizens.
        companies: Number of companies.
        days: Number of simulated days.
        created_at: When the run started; naive values are taken as UTC.
        wall_seconds: Wall-clock duration of the run in seconds.
        version: Version of socialscore that produced the run.
        tags: Free-form JSON-serialisable labels (e.g. sweep parameters).
    """

    run_id: str
    scenario_name: str
    scenario_sha256: str
    seed: int
    population: int
    companies: int
    days: int
    created_at: datetime
    wall_seconds: float
    version: str
    tags: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """Serialise to the text stored as ``meta.json``.

        Returns:
            Pretty-printed JSON with sorted keys and a trailing newline.

        Raises:
            TypeError: If ``tags`` is not JSON-serialisable.
        """
        doc = {
            "run_id": self.run_id,
            "scenario_name": self.scenario_name,
            "scenario_sha256": self.scenario_sha256,
            "seed": int(self.seed),
            "population": int(self.population),
            "companies": int(self.companies),
            "days": int(self.days),
            "created_at": _as_utc(self.created_at).isoformat(),
            "wall_seconds": float(self.wall_seconds),
            "version": self.version,
            "tags": self.tags,
        }
        try:
            return json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
        except (TypeError, ValueError) as exc:
            raise TypeError(MSG_TAGS_NOT_JSON.format(run_id=self.run_id, error=exc)) from exc

    @classmethod
    def from_json(cls, text: str) -> RunMeta:
        """Parse the text of a ``meta.json`` file.

        Args:
            text: JSON written by :meth:`to_json`.

        Returns:
            The run metadata.

        Raises:
            ValueError: If the text is not valid metadata.
        """
        try:
            doc = json.loads(text)
            return cls(
                run_id=str(doc["run_id"]),
                scenario_name=str(doc["scenario_name"]),
                scenario_sha256=str(doc["scenario_sha256"]),
                seed=int(doc["seed"]),
                population=int(doc["population"]),
                companies=int(doc["companies"]),
                days=int(doc["days"]),
                created_at=datetime.fromisoformat(doc["created_at"]),
                wall_seconds=float(doc["wall_seconds"]),
                version=str(doc["version"]),
                tags=dict(doc.get("tags") or {}),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"invalid run metadata: {exc!r}") from exc


# ---------------------------------------------------------------------------
# small file-system helpers
# ---------------------------------------------------------------------------


def _as_utc(moment: datetime) -> datetime:
    """Return ``moment`` as an aware UTC datetime (naive values are taken as UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    """Write a manifest as sorted, indented JSON and fsync it."""
    write_durably(path, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())


def _read_manifest(folder: Path) -> dict[str, Any] | None:
    """Return the parsed manifest of a run folder, or None if absent/unreadable."""
    try:
        doc = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), list):
        return None
    return doc


def _folder_is_complete(folder: Path, *, verify_hashes: bool = False) -> bool:
    """Whether a run folder has a manifest and every file it lists.

    Args:
        folder: The run folder.
        verify_hashes: Also recompute sha256 of every file (slow); otherwise
            only existence and size are checked.

    Returns:
        True if the folder is complete.
    """
    manifest = _read_manifest(folder)
    if manifest is None:
        return False
    try:
        for entry in manifest["files"]:
            if entry.get("derived"):
                continue
            target = folder / str(entry["name"])
            if target.stat().st_size != int(entry["size"]):
                return False
            if verify_hashes and sha256(target) != entry["sha256"]:
                return False
    except (OSError, KeyError, TypeError, ValueError):
        return False
    return True


def _process_start_time(pid: int) -> str | None:
    """Start time of a process in clock ticks since boot (Linux), else None."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


def _process_is_alive(pid: int, start_time: str | None) -> bool:
    """Whether the process ``pid`` (started at ``start_time``, if known) is running."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    try:
        raw = stat.read_text()
    except FileNotFoundError:
        return False
    except OSError:
        return True
    rest = raw[raw.rfind(")") + 2 :].split()
    if rest and rest[0] in ("Z", "X"):  # zombie or dead: the writer is gone
        return False
    # A different start time means the pid was reused by another process.
    return not (start_time is not None and len(rest) > 19 and rest[19] != start_time)


def _slug(name: str, limit: int = 40) -> str:
    """Lower-case ASCII slug of a scenario name ("run" if nothing is left)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:limit].rstrip("-") or "run"


def _check_run_id(run_id: str) -> None:
    if not isinstance(run_id, str) or not _RUN_ID_RE.match(run_id):
        raise ValueError(MSG_BAD_RUN_ID.format(run_id=run_id))


def _check_file_name(name: str) -> None:
    if not isinstance(name, str) or not _FILE_NAME_RE.match(name):
        raise ValueError(MSG_BAD_FILE_NAME.format(name=name))
    if name in RESERVED_FILES:
        raise ValueError(
            MSG_RESERVED_NAME.format(name=name, reserved=", ".join(sorted(RESERVED_FILES)))
        )


def _normalise_metrics(metrics: pa.Table) -> pa.Table:
    """Select and cast the metrics columns to :data:`METRICS_SCHEMA`."""
    for name in OPTIONAL_METRIC_COLUMNS:
        if name not in metrics.column_names:
            field = METRICS_SCHEMA.field(name)
            metrics = metrics.append_column(field, pa.nulls(metrics.num_rows, field.type))
    try:
        return metrics.select(METRICS_SCHEMA.names).cast(METRICS_SCHEMA)
    except (KeyError, ValueError, TypeError, pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ValueError(MSG_METRICS_COLUMNS.format(schema=metrics.schema)) from exc


# ---------------------------------------------------------------------------
# writer
# ---------------------------------------------------------------------------


class RunWriter:
    """Writes the files of one run into its temporary folder.

    Obtained from :meth:`RunStore.writing`; not created directly.

    Attributes:
        run_id: The run being written.
        path: The temporary folder ``ROOT/.incomplete/<run_id>``.
    """

    def __init__(self, store: RunStore, run_id: str, path: Path) -> None:
        self._store = store
        self.run_id = run_id
        self.path = path
        self._written: set[str] = set()
        self._final_path: Path | None = None

    @property
    def finished(self) -> bool:
        """Whether :meth:`finish` has completed the run."""
        return self._final_path is not None

    def _claim(self, file_name: str) -> Path:
        if self.finished:
            raise RuntimeError(MSG_ALREADY_FINISHED.format(run_id=self.run_id))
        _check_file_name(file_name)
        if file_name in self._written:
            raise ValueError(MSG_DUPLICATE_FILE.format(name=file_name, run_id=self.run_id))
        self._written.add(file_name)
        return self.path / file_name

    def write_table(self, name: str, table: pa.Table) -> None:
        """Write ``<name>.parquet`` (zstd).

        The bytes depend only on the table and the pyarrow version: pyarrow
        writes no timestamps into Parquet metadata.

        Args:
            name: Table name, without extension.
            table: The table to write.
        """
        target = self._claim(f"{name}.parquet")
        pq.write_table(table, str(target), compression=PARQUET_COMPRESSION)

    def write_batches(self, name: str, batches: Iterator[pa.RecordBatch]) -> None:
        """Write ``<name>.parquet`` from record batches, one row group each (zstd).

        The table is never held whole in memory; the bytes depend only on the
        batches and the pyarrow version.

        Args:
            name: Table name, without extension.
            batches: Record batches, all with the same schema (at least one).
        """
        target = self._claim(f"{name}.parquet")
        writer: pq.ParquetWriter | None = None
        try:
            for batch in batches:
                if writer is None:
                    writer = pq.ParquetWriter(
                        str(target), batch.schema, compression=PARQUET_COMPRESSION
                    )
                writer.write_batch(batch)
        finally:
            if writer is not None:
                writer.close()

    def write_text(self, name: str, text: str) -> None:
        """Write a UTF-8 text file, byte for byte (no newline translation).

        Args:
            name: File name including its extension, e.g. ``scenario.toml``.
            text: The content.
        """
        target = self._claim(name)
        target.write_bytes(text.encode("utf-8"))

    def finish(self, meta: RunMeta, metrics: pa.Table) -> Path:
        """Complete the run: seal the folder, move it into place, catalogue it.

        Writes ``metrics.parquet`` and ``meta.json``, then ``manifest.json``
        listing every file with size and sha256; fsyncs the files and the
        folder; renames the folder to ``ROOT/<run_id>``; fsyncs the parents;
        and finally inserts the catalogue rows in one transaction.

        Args:
            meta: Metadata of the run; ``meta.run_id`` must be this run.
            metrics: Table with columns metric (str), subject (str),
                grp (str), value (float64).

        Returns:
            The final run folder.

        Raises:
            ValueError: If ``meta`` names another run or ``metrics`` has the
                wrong columns.
            CatalogueError: If the catalogue stays unavailable; the run folder
                is then complete and :meth:`RunStore.reconcile` registers it.
            DiskFullError: If the disk fills up: before the rename nothing is
                kept; after it the folder is complete and
                :meth:`RunStore.reconcile` registers it.
        """
        if self.finished:
            raise RuntimeError(MSG_ALREADY_FINISHED.format(run_id=self.run_id))
        if meta.run_id != self.run_id:
            raise ValueError(MSG_META_RUN_ID.format(meta_id=meta.run_id, run_id=self.run_id))
        metrics = _normalise_metrics(metrics)
        meta_text = meta.to_json()

        pq.write_table(
            metrics, str(self.path / f"{METRICS_TABLE}.parquet"), compression=PARQUET_COMPRESSION
        )
        (self.path / META_FILE).write_bytes(meta_text.encode("utf-8"))

        files = []
        for entry in sorted(self.path.iterdir()):
            if entry.name in (MANIFEST_FILE, WRITER_FILE) or not entry.is_file():
                continue
            size, digest = hash_and_fsync(entry)
            item: dict[str, Any] = {"name": entry.name, "size": size, "sha256": digest}
            if entry.name in DERIVED_FILES:
                item["derived"] = True
            files.append(item)
        manifest = {"format": MANIFEST_FORMAT, "run_id": self.run_id, "files": files}
        _write_manifest(self.path / MANIFEST_FILE, manifest)
        (self.path / WRITER_FILE).unlink(missing_ok=True)
        fsync_dir(self.path)

        final = self._store.root / self.run_id
        if final.exists():
            raise FileExistsError(MSG_RUN_EXISTS.format(run_id=self.run_id, root=self._store.root))
        os.rename(self.path, final)
        fsync_dir(self._store.root)
        fsync_dir(self.path.parent)
        self._final_path = final

        try:
            self._store._register(meta, metrics)
        except DiskFullError as exc:
            raise DiskFullError(
                MSG_DISK_FULL_REGISTER.format(
                    run_id=self.run_id, path=final, error=first_line(exc.__cause__ or exc)
                ),
            ) from exc
        return final


# ---------------------------------------------------------------------------
# store
# ---------------------------------------------------------------------------


class RunStore:
    """Run folders on disk plus a DuckDB catalogue of runs.

    Example::

        store = RunStore()
        run_id = store.new_run_id("baseline")
        with store.writing(run_id) as writer:
            writer.write_text("scenario.toml", text)
            writer.write_table("daily", daily)
            writer.finish(meta, metrics)

    Attributes:
        root: Absolute path of the store root.
        catalogue_path: ``root / "catalogue.duckdb"``.
    """

    _issued: ClassVar[set[str]] = set()  # ids handed out by this process
    _issued_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, root: str | Path = DEFAULT_ROOT) -> None:
        self.root: Path = Path(root).expanduser().resolve()
        self.catalogue_path: Path = self.root / CATALOGUE_FILE
        self.lock_path: Path = self.root / LOCK_FILE
        self.incomplete_path: Path = self.root / INCOMPLETE_DIR

    def __repr__(self) -> str:
        return f"RunStore({str(self.root)!r})"

    # -- ids and writing ---------------------------------------------------

    def new_run_id(self, scenario_name: str) -> str:
        """Make a fresh run id ``<UTC yyyymmddTHHMMSS>-<slug>-<8 random hex>``.

        The suffix comes from the OS random source, so ids made at the same
        moment by different processes differ; within a process ids are never
        repeated, and ids already present under the root are skipped.

        Args:
            scenario_name: Name of the scenario; slugged into the id.

        Returns:
            The run id.
        """
        slug = _slug(scenario_name)
        while True:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
            run_id = f"{stamp}-{slug}-{os.urandom(4).hex()}"
            with self._issued_lock:
                if run_id in self._issued:
                    continue
                if (self.root / run_id).exists() or (self.incomplete_path / run_id).exists():
                    continue
                self._issued.add(run_id)
            return run_id

    @contextmanager
    def writing(self, run_id: str) -> Iterator[RunWriter]:
        """Open a temporary folder for a run and yield its writer.

        The block must call ``writer.finish(meta, metrics)``. If it raises,
        or ends without finishing, the temporary folder is removed (the
        exception is re-raised; a missing finish raises RuntimeError).

        Args:
            run_id: Id from :meth:`new_run_id` (or any valid, unused id).

        Yields:
            The writer of the run.

        Raises:
            ValueError: If the run id is invalid.
            FileExistsError: If the run already exists or is being written.
            RuntimeError: If the block ends without ``writer.finish``.
            DiskFullError: If the disk fills up before the run is complete
                (its temporary folder is removed).
        """
        _check_run_id(run_id)
        if (self.root / run_id).exists():
            raise FileExistsError(MSG_RUN_EXISTS.format(run_id=run_id, root=self.root))
        self._clean_incomplete()  # folders of dead writers, whoever opens the store
        self.incomplete_path.mkdir(parents=True, exist_ok=True)
        temp = self.incomplete_path / run_id
        try:
            temp.mkdir()
        except FileExistsError:
            raise FileExistsError(MSG_RUN_EXISTS.format(run_id=run_id, root=self.root)) from None
        writer = RunWriter(self, run_id, temp)
        try:
            pid = os.getpid()
            info = {
                "pid": pid,
                "host": socket.gethostname(),
                "start_time": _process_start_time(pid),
                "started_at": datetime.now(UTC).isoformat(),
            }
            (temp / WRITER_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
            yield writer
        except BaseException as exc:
            if not writer.finished:
                shutil.rmtree(temp, ignore_errors=True)
                if _is_disk_full(exc) and not isinstance(exc, DiskFullError):
                    raise DiskFullError(
                        MSG_DISK_FULL_RUN.format(
                            root=self.root, run_id=run_id, error=first_line(exc)
                        ),
                    ) from exc
            raise
        if not writer.finished:
            shutil.rmtree(temp, ignore_errors=True)
            raise RuntimeError(MSG_NOT_FINISHED.format(run_id=run_id))

    # -- reading -----------------------------------------------------------

    def list_runs(self) -> pd.DataFrame:
        """Catalogued runs whose folder is complete, newest first.

        Rows whose folder or manifest files are missing are left out (run
        :meth:`reconcile` to drop them and to register complete folders that
        a crash left uncatalogued). ``path`` is absolute; ``tags`` is JSON text.

        Returns:
            One row per run, columns as in the ``runs`` table.
        """
        if not self.catalogue_path.exists():
            return _empty_frame("runs")
        frame = self._with_catalogue(
            lambda con: con.execute(
                f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY created_at DESC, run_id DESC"
            ).df()
        )
        frame["path"] = [str(self.root / str(p)) for p in frame["path"]]
        keep = [_folder_is_complete(Path(p)) for p in frame["path"]]
        return frame.loc[keep].reset_index(drop=True)

    def metrics(self, run_id: str | None = None) -> pd.DataFrame:
        """Metric rows of one run, or of every listed run.

        Args:
            run_id: A run id, or None for all runs.

        Returns:
            Columns run_id, metric, subject, grp, value, ci_low, ci_high
            (the 95% interval, null where none), day_from, day_to (the
            days the value covers).

        Raises:
            RunNotFoundError: If ``run_id`` is given and not listed.
        """
        if run_id is not None:
            run_id = self.resolve(run_id)
            self.run_path(run_id)
        if not self.catalogue_path.exists():
            if run_id is not None:
                raise RunNotFoundError(self._not_found(run_id))
            return _empty_frame("metrics")

        def work(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, pd.DataFrame]:
            if run_id is None:
                rows = con.execute(
                    f"SELECT run_id, {_METRIC_COLUMNS} FROM metrics "
                    "ORDER BY run_id, metric, subject, grp"
                ).df()
                runs = con.execute("SELECT run_id, path FROM runs").df()
            else:
                rows = con.execute(
                    f"SELECT run_id, {_METRIC_COLUMNS} FROM metrics WHERE run_id = ? "
                    "ORDER BY metric, subject, grp",
                    [run_id],
                ).df()
                runs = con.execute("SELECT run_id, path FROM runs WHERE run_id = ?", [run_id]).df()
            return rows, runs

        rows, runs = self._with_catalogue(work)
        if run_id is not None and runs.empty:
            raise RunNotFoundError(self._not_found(run_id))
        valid = {
            str(rid)
            for rid, path in zip(runs["run_id"], runs["path"], strict=True)
            if _folder_is_complete(self.root / str(path))
        }
        return rows.loc[rows["run_id"].isin(valid)].reset_index(drop=True)

    def resolve(self, ref: str) -> str:
        """The id of the run a reference names.

        A reference is a run id (a run folder with a manifest, catalogued or
        not), ``latest`` (the newest complete catalogued run), or the start of
        exactly one catalogued complete run's id (``20261201T0926``). Resolve
        once and use the id after: ``latest`` names another run as soon as a
        newer one is stored.

        Args:
            ref: A run id, a unique start of one, or ``latest``.

        Returns:
            The run id.

        Raises:
            AmbiguousRunError: If ``ref`` starts several run ids (some are named).
            RunNotFoundError: If ``ref`` names no run.
        """
        if not isinstance(ref, str) or not _RUN_ID_RE.match(ref):
            raise RunNotFoundError(self._not_found(str(ref)))
        if (self.root / ref / MANIFEST_FILE).is_file():
            return ref
        ids = [str(rid) for rid in self.list_runs()["run_id"]]  # newest first
        if ref == LATEST:
            if not ids:
                raise RunNotFoundError(
                    MSG_NO_RUNS_YET.format(root=self.root, root_arg=self._root_arg())
                )
            return ids[0]
        matches = [rid for rid in ids if rid.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise RunNotFoundError(self._not_found(ref))
        raise AmbiguousRunError(self._ambiguous(ref, matches))

    def run_path(self, run_id: str) -> Path:
        """Folder of a complete run.

        Args:
            run_id: The run id, a unique start of one, or ``latest`` (see :meth:`resolve`).

        Returns:
            ``root / run_id``.

        Raises:
            RunNotFoundError: If there is no complete folder for this run.
        """
        run_id = self.resolve(run_id)
        folder = self.root / run_id
        if not (folder / MANIFEST_FILE).is_file():
            raise RunNotFoundError(self._not_found(run_id))
        if not _folder_is_complete(folder):
            raise RunNotFoundError(MSG_RUN_DAMAGED.format(run_id=run_id, root=self.root))
        return folder

    def replace_derived(self, run_id: str, name: str, text: str) -> Path:
        """Replace a derived file of a complete run (e.g. rebuild its report).

        The new file is written beside the old one and renamed over it, then
        the manifest is rewritten the same way, so a reader sees the old or
        the new file, never a partial one.

        Args:
            run_id: The run.
            name: A name from :data:`DERIVED_FILES`.
            text: The new content.

        Returns:
            The path of the replaced file.
        """
        if name not in DERIVED_FILES:
            raise ValueError(MSG_NOT_DERIVED.format(name=name, derived=sorted(DERIVED_FILES)))
        folder = self.run_path(run_id)
        target = folder / name
        size, digest = replace_file(target, text.encode("utf-8"))
        manifest = _read_manifest(folder) or {"format": MANIFEST_FORMAT, "run_id": run_id}
        files = [e for e in manifest.get("files", []) if e.get("name") != name]
        files.append({"name": name, "size": size, "sha256": digest, "derived": True})
        manifest["files"] = sorted(files, key=lambda e: str(e["name"]))
        tmp_manifest = folder / f".{MANIFEST_FILE}.tmp"
        _write_manifest(tmp_manifest, manifest)
        os.replace(tmp_manifest, folder / MANIFEST_FILE)
        fsync_dir(folder)
        return target

    def load_table(self, run_id: str, name: str, *, columns: list[str] | None = None) -> pa.Table:
        """Read ``<name>.parquet`` of a run.

        Args:
            run_id: The run id.
            name: Table name without extension (e.g. ``"metrics"``).
            columns: Read only these columns (all when None).

        Returns:
            The table.

        Raises:
            RunNotFoundError: If the run does not exist.
            FileNotFoundError: If the run has no such table.
        """
        folder = self.run_path(run_id)
        path = folder / f"{name}.parquet"
        if not _FILE_NAME_RE.match(f"{name}.parquet") or not path.is_file():
            tables = sorted(p.stem for p in folder.glob("*.parquet"))
            raise FileNotFoundError(
                MSG_TABLE_NOT_FOUND.format(run_id=run_id, name=name, path=path, tables=tables)
            )
        return pq.read_table(str(path), columns=columns)

    # -- removing ----------------------------------------------------------

    def remove(self, run_id: str) -> str:
        """Delete a run: its folder and every catalogue row about it.

        The folder is first moved under ``ROOT/.removing`` (from then on no
        reader sees the run, and :meth:`reconcile` never registers it again),
        then the run's rows in ``runs``, ``metrics`` and ``sweep_runs`` are
        deleted in one transaction, then the folder is deleted. Cut short at
        any step, the run stays gone and the next :meth:`reconcile` finishes
        the job.

        Args:
            run_id: The run id, a unique start of one, or ``latest`` (see :meth:`resolve`).

        Returns:
            The id of the run removed.

        Raises:
            RunNotFoundError: If the reference names no run.
        """
        run_id = self.resolve(run_id)
        aside = self.root / REMOVING_DIR / run_id
        with signals_deferred():
            aside.parent.mkdir(exist_ok=True)
            shutil.rmtree(aside, ignore_errors=True)  # left by a removal cut short
            try:
                os.rename(self.root / run_id, aside)
            except FileNotFoundError:  # removed by another process meanwhile
                raise RunNotFoundError(self._not_found(run_id)) from None
            fsync_dir(self.root)
            fsync_dir(aside.parent)
        self._forget(run_id)
        shutil.rmtree(aside, ignore_errors=True)
        return run_id

    def _forget(self, run_id: str) -> None:
        """Delete every catalogue row about one run, in one transaction."""
        if not self.catalogue_path.exists():
            return

        def work(con: duckdb.DuckDBPyConnection) -> None:
            con.begin()
            try:
                for table in ("metrics", "sweep_runs", "runs"):
                    con.execute(f"DELETE FROM {table} WHERE run_id = ?", [run_id])
                con.commit()
            except BaseException:
                _rollback(con)
                raise

        self._with_catalogue(work)

    def _clean_removing(self) -> None:
        """Delete the folders of removals that were cut short (their rows are gone or hidden)."""
        removing = self.root / REMOVING_DIR
        if removing.is_dir():
            for folder in removing.iterdir():
                shutil.rmtree(folder, ignore_errors=True)

    # -- repair ------------------------------------------------------------

    def reconcile(self, *, verify_hashes: bool = False) -> None:
        """Make the catalogue and the folders agree after crashes or manual edits.

        * Registers complete folders (with ``manifest.json``) missing from the
          catalogue, from their ``meta.json`` and ``metrics.parquet``.
        * Deletes catalogue rows whose folder or manifest files are missing.
        * Deletes ``.incomplete/<run_id>`` folders whose writer process (pid
          on this host) is dead. Folders of live writers, or of writers on
          another host, are kept; folders without a writer file are removed
          once older than :data:`STALE_INCOMPLETE_SECONDS`.

        Safe to call while other processes write runs.

        Args:
            verify_hashes: Also recompute the sha256 of every file and treat
                a mismatch as missing (slow on large stores).
        """
        catalogued: dict[str, str] = {}
        if self.catalogue_path.exists():
            rows = self._with_catalogue(
                lambda con: con.execute("SELECT run_id, path FROM runs").fetchall()
            )
            catalogued = {str(rid): str(path) for rid, path in rows}

        drop = [
            rid
            for rid, path in catalogued.items()
            if not _folder_is_complete(self.root / path, verify_hashes=verify_hashes)
        ]
        add: list[tuple[RunMeta, pa.Table]] = []
        if self.root.is_dir():
            for folder in sorted(self.root.iterdir()):
                if (
                    folder.name.startswith(".")
                    or folder.name in catalogued
                    or not folder.is_dir()
                    or not _RUN_ID_RE.match(folder.name)
                    or not _folder_is_complete(folder, verify_hashes=verify_hashes)
                ):
                    continue
                loaded = self._load_folder(folder)
                if loaded is not None:
                    add.append(loaded)

        if drop or add:

            def work(con: duckdb.DuckDBPyConnection) -> None:
                con.begin()
                try:
                    for rid in drop:
                        con.execute("DELETE FROM metrics WHERE run_id = ?", [rid])
                        con.execute("DELETE FROM runs WHERE run_id = ?", [rid])
                    for meta, metrics in add:
                        _insert_run(con, meta, metrics)
                    con.commit()
                except BaseException:
                    _rollback(con)
                    raise

            self._with_catalogue(work)

        self._clean_incomplete()
        self._clean_removing()

    # -- internals ---------------------------------------------------------

    def _root_arg(self) -> str:
        """The root as a shell argument (quoted when it holds spaces or quotes)."""
        return shlex.quote(str(self.root))

    def _not_found(self, run_id: str) -> str:
        return MSG_RUN_NOT_FOUND.format(run_id=run_id, root=self.root, root_arg=self._root_arg())

    def _ambiguous(self, prefix: str, matches: list[str]) -> str:
        extra = len(matches) - CANDIDATES_SHOWN
        return MSG_RUN_AMBIGUOUS.format(
            prefix=prefix,
            count=len(matches),
            root=self.root,
            candidates=", ".join(matches[:CANDIDATES_SHOWN]),
            more=f" and {extra} more" if extra > 0 else "",
            root_arg=self._root_arg(),
        )

    def _load_folder(self, folder: Path) -> tuple[RunMeta, pa.Table] | None:
        """Read meta and metrics of a complete folder (None, with a warning, if unreadable)."""
        try:
            meta = RunMeta.from_json((folder / META_FILE).read_text(encoding="utf-8"))
            metrics = _normalise_metrics(pq.read_table(str(folder / f"{METRICS_TABLE}.parquet")))
        except (OSError, ValueError, pa.ArrowException) as exc:
            warnings.warn(MSG_BAD_META.format(path=folder, error=exc), stacklevel=3)
            return None
        if meta.run_id != folder.name:
            warnings.warn(
                MSG_META_FOLDER_MISMATCH.format(path=folder, meta_id=meta.run_id), stacklevel=3
            )
            return None
        return meta, metrics

    def _clean_incomplete(self) -> None:
        """Remove temporary run folders whose writer is provably gone."""
        if not self.incomplete_path.is_dir():
            return
        host = socket.gethostname()
        now = time.time()
        for temp in self.incomplete_path.iterdir():
            if not temp.is_dir():
                continue
            try:
                info = json.loads((temp / WRITER_FILE).read_text(encoding="utf-8"))
                pid = int(info["pid"])
                writer_host = str(info["host"])
                start = info.get("start_time")
                start_time = None if start is None else str(start)
            except FileNotFoundError:
                # Just created (writer file not yet written) or sealed just
                # before its rename: only remove once clearly abandoned.
                try:
                    age = now - temp.stat().st_mtime
                except OSError:
                    continue
                if age > STALE_INCOMPLETE_SECONDS:
                    shutil.rmtree(temp, ignore_errors=True)
                continue
            except (OSError, ValueError, KeyError, TypeError):
                continue  # unreadable right now: never guess
            if writer_host != host:
                continue  # cannot tell whether a process on another host lives
            if not _process_is_alive(pid, start_time):
                shutil.rmtree(temp, ignore_errors=True)

    def _register(self, meta: RunMeta, metrics: pa.Table) -> None:
        """Insert (or replace) the catalogue rows of a complete run, atomically."""

        def work(con: duckdb.DuckDBPyConnection) -> None:
            con.begin()
            try:
                _insert_run(con, meta, metrics)
                con.commit()
            except BaseException:
                _rollback(con)
                raise

        self._with_catalogue(work)

    def register_comparison(self, compare_id: str, table: pd.DataFrame) -> None:
        """Store a comparison's summary rows in the catalogue table ``comparisons``.

        Args:
            compare_id: Identifier of the comparison.
            table: Columns scenario, metric, subject, grp, mean, difference,
                ci_low, ci_high (one row per scenario and measure).
        """
        frame = table.assign(compare_id=compare_id)[list(_COMPARISON_COLUMNS)]

        def work(con: duckdb.DuckDBPyConnection) -> None:
            con.begin()
            try:
                con.execute("DELETE FROM comparisons WHERE compare_id = ?", [compare_id])
                con.register("incoming", frame)
                con.execute("INSERT INTO comparisons SELECT * FROM incoming")
                con.unregister("incoming")
                con.commit()
            except BaseException:
                _rollback(con)
                raise

        self._with_catalogue(work)

    def register_sweep_run(self, sweep_id: str, row: dict[str, Any]) -> None:
        """Record one run of a sweep in the catalogue table ``sweep_runs`` (replacing its key).

        Args:
            sweep_id: The sweep.
            row: run_key, point, seed, params (JSON), status ("done" or
                "failed"), run_id, error, seconds.
        """
        columns = ["run_key", "point", "seed", "params", "status", "run_id", "error", "seconds"]
        values = [sweep_id, *(row[c] for c in columns)]

        def work(con: duckdb.DuckDBPyConnection) -> None:
            con.begin()
            try:
                con.execute(
                    "DELETE FROM sweep_runs WHERE sweep_id = ? AND run_key = ?",
                    [sweep_id, row["run_key"]],
                )
                con.execute(
                    "INSERT INTO sweep_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, now())", values
                )
                con.commit()
            except BaseException:
                _rollback(con)
                raise

        self._with_catalogue(work)

    def sweep_runs(self, sweep_id: str | None = None) -> pd.DataFrame:
        """Rows of ``sweep_runs`` (of one sweep, or all); a done run must still be catalogued."""

        def work(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
            query = (
                "SELECT s.* FROM sweep_runs s LEFT JOIN runs r USING (run_id) "
                "WHERE (s.status <> 'done' OR r.run_id IS NOT NULL)"
            )
            if sweep_id is None:
                return con.execute(query + " ORDER BY sweep_id, point, seed").df()
            return con.execute(query + " AND s.sweep_id = ? ORDER BY point, seed", [sweep_id]).df()

        return self._with_catalogue(work)

    def query(self, sql: str) -> pd.DataFrame:
        """Run one read-only SQL statement on the catalogue; every row of its result.

        See :func:`socialscore.store.query.run_query` for what a query may do (and
        for a row limit).

        Args:
            sql: One SELECT statement (DuckDB dialect).

        Returns:
            The result.

        Raises:
            socialscore.store.query.QueryError: If the statement is refused or fails.
        """
        from socialscore.store.query import run_query

        return run_query(self, sql).frame

    def comparisons(self) -> pd.DataFrame:
        """Every stored comparison row (empty when there are none)."""
        if not self.catalogue_path.exists():
            return pd.DataFrame(columns=list(_COMPARISON_COLUMNS))
        return self._with_catalogue(lambda con: con.execute("SELECT * FROM comparisons").df())

    @contextmanager
    def catalogue_snapshot(self) -> Iterator[Path]:
        """A private copy of the catalogue, for reads that may take long.

        The catalogue file (and a write-ahead log a crashed writer left) is
        copied while holding the catalogue lock, so the copy is consistent;
        the lock is released before the caller reads, so writers never wait
        for a slow reader. The copy has the current schema (every table, even
        in an empty or older store) and is deleted when the block ends.
        Nothing is created under the store root.

        Yields:
            The path of the copy; open it with ``duckdb.connect(path, read_only=True)``.
        """
        with tempfile.TemporaryDirectory(prefix="socialscore-catalogue-") as tmp:
            copy = Path(tmp) / CATALOGUE_FILE
            try:
                if self.catalogue_path.exists():
                    with self._locked(reading=True):
                        shutil.copyfile(self.catalogue_path, copy)
                        wal = self.catalogue_path.with_name(CATALOGUE_FILE + ".wal")
                        if wal.exists():
                            shutil.copyfile(wal, copy.with_name(copy.name + ".wal"))
                con = duckdb.connect(str(copy))  # replays the copied log; nobody else sees it
                try:
                    for statement in _SCHEMA_SQL:
                        con.execute(statement)
                finally:
                    con.close()
            except (OSError, duckdb.Error) as exc:
                raise CatalogueError(
                    MSG_SNAPSHOT_FAILED.format(
                        path=self.catalogue_path, tmp=tmp, error=first_line(exc)
                    )
                ) from exc
            yield copy

    def check_writable(self) -> None:
        """Check, before any simulation, that runs can be written under the root.

        Creates the root (and its ``.incomplete`` folder) if needed, writes and
        removes a probe file in each, and checks that an existing catalogue and
        lock file can be opened for writing.

        Raises:
            OutputLocationError: Naming the root and the reason (read-only,
                a file, a parent that is a file, not creatable, ...).
        """
        if self.root.exists() and not self.root.is_dir():
            raise OutputLocationError(
                MSG_OUT_NOT_WRITABLE.format(path=self.root, reason=MSG_OUT_IS_FILE)
            )
        for parent in self.root.parents:
            if parent.exists():
                if not parent.is_dir():
                    reason = MSG_OUT_PARENT_IS_FILE.format(parent=parent)
                    raise OutputLocationError(
                        MSG_OUT_NOT_WRITABLE.format(path=self.root, reason=reason)
                    )
                break
        try:
            self.incomplete_path.mkdir(parents=True, exist_ok=True)
            for folder in (self.root, self.incomplete_path):
                fd, probe = tempfile.mkstemp(prefix=".write-probe-", dir=folder)
                try:
                    os.write(fd, b"probe")
                finally:
                    os.close(fd)
                    os.unlink(probe)
            for existing in (self.catalogue_path, self.lock_path):
                if existing.exists():
                    os.close(os.open(existing, os.O_RDWR))
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise OutputLocationError(
                MSG_OUT_NOT_WRITABLE.format(path=self.root, reason=reason)
            ) from exc

    def _open_lock(self, *, reading: bool) -> int | None:
        """Open ``catalogue.lock`` (None: a read-only store without one, so no writer)."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            return os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            if reading and exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
                try:
                    return os.open(self.lock_path, os.O_RDONLY)
                except FileNotFoundError:
                    return None
            if _is_disk_full(exc):
                raise DiskFullError(
                    MSG_DISK_FULL_CATALOGUE.format(path=self.catalogue_path, error=first_line(exc))
                ) from exc
            self.check_writable()  # names the reason (a file, read-only, ...) when it can
            reason = exc.strerror or str(exc)
            raise OutputLocationError(
                MSG_OUT_NOT_WRITABLE.format(path=self.root, reason=reason)
            ) from exc

    @contextmanager
    def _locked(self, *, reading: bool = False) -> Iterator[None]:
        """Hold the exclusive catalogue lock (``flock`` on ``catalogue.lock``).

        Args:
            reading: The caller only reads (a snapshot). In a store nobody can
                write to (read-only media), the lock file is then opened
                read-only, or not at all when it does not exist: no writer can
                be at work there.
        """
        fd = self._open_lock(reading=reading)
        if fd is None:
            yield
            return
        try:
            deadline = time.monotonic() + LOCK_TIMEOUT_SECONDS
            pause = 0.001
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise CatalogueError(
                            MSG_LOCK_TIMEOUT.format(
                                seconds=LOCK_TIMEOUT_SECONDS, path=self.lock_path
                            )
                        ) from None
                    time.sleep(pause * random.uniform(0.5, 1.5))
                    pause = min(pause * 2, 0.05)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def _create_catalogue(self) -> None:
        """Create the catalogue whole or not at all (the caller holds the lock).

        DuckDB cut short by a full disk leaves a file it cannot open again, so
        the schema is written to a temporary file that is renamed into place
        only once complete; on failure nothing is left and a later
        :meth:`reconcile` registers every complete run folder.
        """
        temp = self.root / f".{CATALOGUE_FILE}.new"
        temp_wal = temp.with_name(temp.name + ".wal")
        for leftover in (temp, temp_wal):  # of a creator killed earlier
            leftover.unlink(missing_ok=True)
        try:
            con = duckdb.connect(str(temp))
            try:
                for statement in _SCHEMA_SQL:
                    con.execute(statement)
                con.execute("CHECKPOINT")
            finally:
                con.close()
            fd = os.open(temp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            if temp_wal.exists():
                os.rename(temp_wal, self.catalogue_path.with_name(CATALOGUE_FILE + ".wal"))
            os.rename(temp, self.catalogue_path)
            fsync_dir(self.root)
        except BaseException:
            for leftover in (temp, temp_wal):
                leftover.unlink(missing_ok=True)
            raise

    def _with_catalogue(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run ``work`` on a fresh connection under the catalogue lock, with retries.

        ``work`` must be idempotent (it is retried after DuckDB lock conflicts
        and transaction conflicts) and must leave no open transaction. A full
        disk is raised at once as :class:`DiskFullError`; any other I/O error
        at once as :class:`CatalogueError`.
        """
        deadline = time.monotonic() + RETRY_SECONDS
        pause = 0.02
        while True:
            try:
                with signals_deferred(), self._locked():
                    if not self.catalogue_path.exists():
                        self._create_catalogue()
                    con = duckdb.connect(str(self.catalogue_path))
                    try:
                        for statement in _SCHEMA_SQL:
                            con.execute(statement)
                        return work(con)
                    finally:
                        con.close()
            except duckdb.Error as exc:
                if _is_disk_full(exc):
                    raise DiskFullError(
                        MSG_DISK_FULL_CATALOGUE.format(
                            path=self.catalogue_path, error=first_line(exc)
                        )
                    ) from exc
                if not isinstance(exc, duckdb.IOException | duckdb.TransactionException):
                    raise
                if isinstance(exc, duckdb.IOException) and "lock" not in str(exc).lower():
                    raise CatalogueError(
                        MSG_CATALOGUE_IO.format(path=self.catalogue_path, error=first_line(exc))
                    ) from exc
                if time.monotonic() > deadline:
                    raise CatalogueError(
                        MSG_CATALOGUE_BUSY.format(
                            path=self.catalogue_path, seconds=RETRY_SECONDS, error=exc
                        )
                    ) from exc
                time.sleep(pause * random.uniform(0.5, 1.5))
                pause = min(pause * 2, 1.0)


def _insert_run(con: duckdb.DuckDBPyConnection, meta: RunMeta, metrics: pa.Table) -> None:
    """Replace the rows of one run inside the caller's transaction."""
    con.execute("DELETE FROM metrics WHERE run_id = ?", [meta.run_id])
    con.execute("DELETE FROM runs WHERE run_id = ?", [meta.run_id])
    con.execute(
        f"INSERT INTO runs ({_RUN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            meta.run_id,
            meta.scenario_name,
            meta.scenario_sha256,
            int(meta.seed),
            int(meta.population),
            int(meta.companies),
            int(meta.days),
            _as_utc(meta.created_at).replace(tzinfo=None),
            float(meta.wall_seconds),
            meta.run_id,  # path, relative to the store root
            meta.version,
            json.dumps(meta.tags, sort_keys=True, ensure_ascii=False),
        ],
    )
    if metrics.num_rows:
        rows = metrics.append_column(
            "run_id", pa.array([meta.run_id] * metrics.num_rows, type=pa.string())
        )
        con.register("_new_metrics", rows)
        try:
            con.execute(
                f"INSERT INTO metrics (run_id, {_METRIC_COLUMNS}) "
                f"SELECT run_id, {_METRIC_COLUMNS} FROM _new_metrics"
            )
        finally:
            con.unregister("_new_metrics")


def _empty_frame(table: str) -> pd.DataFrame:
    """An empty frame with the columns and dtypes of a catalogue table."""
    con = duckdb.connect(":memory:")
    try:
        for statement in _SCHEMA_SQL:
            con.execute(statement)
        columns = _RUN_COLUMNS if table == "runs" else f"run_id, {_METRIC_COLUMNS}"
        return con.execute(f"SELECT {columns} FROM {table}").df()
    finally:
        con.close()
