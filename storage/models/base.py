"""Shared table machinery: constraint naming and how StrEnum columns are stored.

Imported first by `storage.models`, before any table is declared, so every constraint gets a stable name
(Alembic needs names to alter constraints later, and SQLite batch migrations need them to rebuild tables).
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Enum as SAEnum
from sqlmodel import SQLModel

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLModel.metadata.naming_convention = NAMING_CONVENTION

# Long enough for every value we have and a margin for new ones, without a migration.
ENUM_LENGTH = 32


def enum_type(enum_cls: type[StrEnum]) -> SAEnum:
    """A VARCHAR column holding the enum's *values* (not names), read back as enum members.

    Not a database enum type: PostgreSQL enum types need ALTER TYPE to grow and SQLite has none.
    """
    return SAEnum(
        enum_cls,
        native_enum=False,
        length=ENUM_LENGTH,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )
