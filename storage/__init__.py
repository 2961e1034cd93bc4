"""Aftercare's persistence: SQLModel tables, Alembic migrations and keyword-only data functions.

    db          make_engine(url), session_scope(engine): SQLite (default) or PostgreSQL, same code
    models      the tables; migrate: upgrade(url), current(url)
    patients, enrolment, checkins, answers, escalations, messages (outbox), inbound, staff, audit

Every function takes `session` and `now` as keyword arguments, flushes but never commits (the caller's
session_scope does), and never reads the clock. Must not import bot/, console/, telegram or web libraries.
"""
