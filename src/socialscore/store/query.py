"""Read-only SQL queries on the run catalogue (``socialscore query``).

What a query may do, and how that is enforced:

* One statement per call, and only a read: DuckDB's own parser
  (:func:`duckdb.extract_statements`) splits the text, and anything but one
  ``SELECT``-type statement (``SELECT``, ``WITH``, ``FROM``, ``VALUES``,
  ``DESCRIBE``, ``SHOW``, ``SUMMARIZE``) is refused before it runs:
  ``COMMIT``/``BEGIN``, ``DROP``, ``INSERT``, ``CREATE``, ``ATTACH``, ``COPY``,
  ``SET``, ``PRAGMA``, ``INSTALL``/``LOAD``, ``CALL``, ``EXPORT``, ...
* The statement runs on a private copy of the catalogue
  (:meth:`RunStore.catalogue_snapshot`), opened read-only with external
  access off (no files, no other databases, no extensions) and the
  configuration locked, so nothing a query does can reach the catalogue, the
  run folders, the lock file or any other file. The copy is taken under the
  catalogue lock and the lock is released before the query runs: a slow query
  never makes a run wait.
* A refused or failing query raises :class:`QueryError` (one line, the
  user's own error, reported at once; never retried as "catalogue busy").
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from socialscore.store.catalogue import RunStore, first_line
from socialscore.store.defaults import DEFAULT_LIMIT

__all__ = ["DEFAULT_LIMIT", "QueryError", "QueryResult", "run_query"]

ALLOWED_STATEMENTS = frozenset({duckdb.StatementType.SELECT})
"""Statement types a query may be (DuckDB parses WITH, FROM, VALUES, DESCRIBE,
SHOW and SUMMARIZE as SELECT)."""

_CHUNK_VECTORS = 64
"""DuckDB vectors (2,048 rows each) fetched at a time."""

MSG_QUERY_EMPTY = (
    'The query is empty: give one SQL statement, e.g. socialscore query "select * from runs".'
)
MSG_QUERY_SEVERAL = "The query holds {count} statements; give exactly one (a SELECT) per call."
MSG_QUERY_NOT_READ = (
    "Refused: a query may only read the catalogue with one SELECT (or WITH, FROM, VALUES, "
    "DESCRIBE, SHOW, SUMMARIZE) statement; got a statement of type {kind}."
)
MSG_QUERY_NO_ACCESS = (
    "Refused: a query may read only the catalogue's tables, not files, other databases or "
    "extensions ({error})."
)
MSG_QUERY_FAILED = "The query failed: {error}"
MSG_BAD_LIMIT = "The row limit must be 1 or more (got {limit})."


class QueryError(ValueError):
    """A query that was refused, or that failed (the message is one line)."""


@dataclass(frozen=True)
class QueryResult:
    """The first rows of a query's result, and how many rows it had.

    Attributes:
        frame: The rows kept (all of them, or the first ``limit``).
        total_rows: How many rows the query returned.
    """

    frame: pd.DataFrame
    total_rows: int

    @property
    def omitted(self) -> int:
        """Rows of the result left out of :attr:`frame`."""
        return self.total_rows - len(self.frame)


def check_statement(sql: str) -> str:
    """Parse a query and accept it only if it is one read statement.

    Args:
        sql: The text given by the user.

    Returns:
        The single statement's text.

    Raises:
        QueryError: If the text is empty, holds several statements, does not
            parse, or is not a read.
    """
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryError(MSG_QUERY_FAILED.format(error=first_line(exc))) from None
    if not statements:
        raise QueryError(MSG_QUERY_EMPTY)
    if len(statements) > 1:
        raise QueryError(MSG_QUERY_SEVERAL.format(count=len(statements)))
    statement = statements[0]
    if statement.type not in ALLOWED_STATEMENTS:
        raise QueryError(MSG_QUERY_NOT_READ.format(kind=statement.type.name))
    return sql


def _config(temp_dir: Path) -> dict[str, str | bool | int | float | list[str]]:
    """DuckDB settings of a query connection: no external access, settings locked."""
    return {
        "enable_external_access": False,
        "autoload_known_extensions": False,
        "autoinstall_known_extensions": False,
        "allow_community_extensions": False,
        "allow_unsigned_extensions": False,
        "temp_directory": str(temp_dir),  # spills go to a private folder, removed after
        "lock_configuration": True,  # last: nothing above can be changed by the query
    }


def run_query(store: RunStore, sql: str, *, limit: int | None = None) -> QueryResult:
    """Run one read-only statement on a private copy of the store's catalogue.

    Args:
        store: The run store.
        sql: One SELECT-type statement (DuckDB dialect).
        limit: Keep at most this many rows (the rest are counted, not kept);
            ``None`` keeps every row.

    Returns:
        The rows kept and the result's row count.

    Raises:
        QueryError: If the statement is refused or fails.
    """
    if limit is not None and limit < 1:
        raise QueryError(MSG_BAD_LIMIT.format(limit=limit))
    statement = check_statement(sql)
    with store.catalogue_snapshot() as copy, tempfile.TemporaryDirectory() as spill:
        con = duckdb.connect(str(copy), read_only=True, config=_config(Path(spill)))
        try:
            return _fetch(con, statement, limit)
        except duckdb.PermissionException as exc:
            raise QueryError(MSG_QUERY_NO_ACCESS.format(error=first_line(exc))) from None
        except duckdb.Error as exc:
            raise QueryError(MSG_QUERY_FAILED.format(error=first_line(exc))) from None
        finally:
            con.close()


def _fetch(con: duckdb.DuckDBPyConnection, statement: str, limit: int | None) -> QueryResult:
    """Execute and keep the first ``limit`` rows; count the others without keeping them."""
    result = con.execute(statement)
    chunks: list[pd.DataFrame] = []
    kept = total = 0
    while True:
        chunk = result.fetch_df_chunk(_CHUNK_VECTORS)
        if chunk.empty:
            if not chunks:
                chunks.append(chunk)  # no rows: keep the columns
            break
        total += len(chunk)
        if limit is None or kept < limit:
            take = chunk if limit is None else chunk.iloc[: limit - kept]
            chunks.append(take)
            kept += len(take)
    frame = chunks[0] if len(chunks) == 1 else pd.concat(chunks, ignore_index=True)
    return QueryResult(frame.reset_index(drop=True), total)
