"""Small SQL helpers shared by the data functions. Internal to storage/."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import String, bindparam, insert, literal_column, type_coerce, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, SQLModel

from storage.errors import NotFound

ModelT = TypeVar("ModelT", bound=SQLModel)
# Statements built once per table and set of columns (hot paths: every patient reply runs some).
_INSERTS: dict[tuple[str, str, str, frozenset[str]], Any] = {}


def locked(session: Session, model: type[ModelT], row_id: object) -> ModelT:
    """The row, re-read and locked for the rest of the transaction (FOR UPDATE on PostgreSQL; on SQLite
    the whole database is already locked by BEGIN IMMEDIATE). Raises NotFound."""
    row = session.get(model, row_id, with_for_update=True, populate_existing=True)
    if row is None:
        raise NotFound(f"{model.__name__} {row_id} does not exist")
    return row


def insert_unless_exists(
    session: Session, model: type[SQLModel], values: dict[str, Any], column: str | tuple[str, ...]
) -> Any:
    """INSERT ... ON CONFLICT (column, or columns: a unique constraint over them) DO NOTHING. Returns the new
    row's id, or None if a row with the same values already existed. Race-free on both databases, and no
    error lands in the server log."""
    table = model.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    columns = [column] if isinstance(column, str) else list(column)
    key = (dialect, table.name, ",".join(columns), frozenset(values))
    statement = _INSERTS.get(key)
    if statement is None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert(table)
            .values({name: bindparam(name) for name in values})
            .on_conflict_do_nothing(index_elements=columns)
            .returning(table.c.id)
        )
        _INSERTS[key] = statement
    session.flush()  # keep statement order: rows the ORM still holds go first
    return session.connection().execute(statement, values).scalar_one_or_none()


def without_index(column: Any) -> Any:
    """A text column as ``column || ''``: the same value, which no index on the column can serve. For a
    filter that must not drive the query: SQLite has no statistics to go on, and given "this patient's
    check-ins with status X" it walks every check-in with status X (the (status, due_at) index), whoever
    the patient, rather than the few rows of the patient's own episodes."""
    return type_coerce(column, String).concat(literal_column("''"))


def claim_under_lease(
    table: Any, chosen: Any, *, claimed_status: object, returning: Sequence[Any], **also: Any
) -> Any:
    """`UPDATE table ... WHERE id IN (chosen) RETURNING ...`: the rows ``chosen`` selects (a SELECT of ids,
    built with ``LIMIT`` and ``FOR UPDATE SKIP LOCKED``) become ``claimed_status``, leased to
    ``:claim_owner`` until ``:claim_until``, with one attempt more (and the columns in ``also`` set). One
    round trip; the scheduler's and the outbox's claims are both built with it, once."""
    return (
        update(table)
        .where(table.c.id.in_(chosen.scalar_subquery()))
        .values(
            status=claimed_status,
            lease_owner=bindparam("claim_owner"),
            lease_until=bindparam("claim_until"),
            attempts=table.c.attempts + 1,
            **also,
        )
        .returning(*returning)
    )


def column_values(row: SQLModel) -> dict[str, Any]:
    """The row's column values for a Core insert (id left to the database)."""
    return row.model_dump(exclude={"id"})


def truncate_error(error: str, limit: int = 500) -> str:
    """Error text for storage. Callers must pass exception descriptions, never message text."""
    return error if len(error) <= limit else error[: limit - 1] + "…"


# Hot paths (every patient reply) write through Core, not the ORM: an ORM read-modify-flush costs about
# five times a prepared UPDATE.
_UPDATES: dict[tuple[str, frozenset[str]], Any] = {}


def update_by_id(session: Session, model: type[SQLModel], row_id: int, **values: Any) -> bool:
    """UPDATE one row by id, without reading it first. A copy of the row already loaded in this session
    is brought up to date (not marked changed, so it is not written again). False if no such row."""
    table = model.__table__  # type: ignore[attr-defined]
    key = (table.name, frozenset(values))
    statement = _UPDATES.get(key)
    if statement is None:
        statement = (
            update(table)
            .where(table.c.id == bindparam("_row_id"))
            .values({name: bindparam(f"new_{name}") for name in values})
        )
        _UPDATES[key] = statement
    session.flush()  # keep statement order: anything the ORM still holds for this row goes first
    result = session.connection().execute(
        statement, {"_row_id": row_id, **{f"new_{k}": v for k, v in values.items()}}
    )
    loaded = session.identity_map.get(identity_key(model, row_id))
    if loaded is not None:
        for name, value in values.items():
            set_committed_value(loaded, name, value)
    return bool(result.rowcount)


_INSERT_RETURNING_ID: dict[str, Any] = {}


def insert_row(session: Session, row: ModelT) -> ModelT:
    """INSERT the row with one Core statement (built once per table) and put it in the session as though
    it had been loaded: callers hold the very object `session.get` returns, and later changes to it are
    flushed as UPDATEs. About a fifth of what `session.add` and a flush cost, for rows written on every
    reply or enrolment. The row's id is set; defaults must be the model's own (no server defaults)."""
    table = row.__table__  # type: ignore[attr-defined]
    statement = _INSERT_RETURNING_ID.get(table.name)
    if statement is None:
        statement = _INSERT_RETURNING_ID[table.name] = insert(table).returning(table.c.id)
    session.flush()  # keep statement order: rows the ORM still holds go first
    row.id = session.connection().execute(statement, column_values(row)).scalar_one()
    keep_as_loaded(session, row)
    return row


def keep_as_loaded(session: Session, row: SQLModel) -> None:
    """A row just written with a Core INSERT (its id set) joins the session as though loaded from the
    database: callers hold the very object `session.get` returns, and later changes are flushed as UPDATEs."""
    make_transient_to_detached(row)
    session.add(row)
