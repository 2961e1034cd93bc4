"""Small SQL helpers shared by the data functions. Internal to storage/."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel

from storage.errors import NotFound

ModelT = TypeVar("ModelT", bound=SQLModel)


def locked(session: Session, model: type[ModelT], row_id: object) -> ModelT:
    """The row, re-read and locked for the rest of the transaction (FOR UPDATE on PostgreSQL; on SQLite
    the whole database is already locked by BEGIN IMMEDIATE). Raises NotFound."""
    row = session.get(model, row_id, with_for_update=True, populate_existing=True)
    if row is None:
        raise NotFound(f"{model.__name__} {row_id} does not exist")
    return row


def insert_unless_exists(session: Session, model: type[SQLModel], values: dict[str, Any], column: str) -> Any:
    """INSERT ... ON CONFLICT (column) DO NOTHING. Returns the new row's id, or None if a row with the
    same value already existed. Race-free on both databases, and no error lands in the server log."""
    table = model.__table__  # type: ignore[attr-defined]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(table).values(**values).on_conflict_do_nothing(index_elements=[column])
    return session.exec(statement.returning(table.c.id)).scalar_one_or_none()


def column_values(row: SQLModel) -> dict[str, Any]:
    """The row's column values for a Core insert (id left to the database)."""
    return row.model_dump(exclude={"id"})


def truncate_error(error: str, limit: int = 500) -> str:
    """Error text for storage. Callers must pass exception descriptions, never message text."""
    return error if len(error) <= limit else error[: limit - 1] + "…"
