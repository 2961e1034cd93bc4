"""The composition root's local-mode accounts: a demo nurse who is a nurse, and a separate demo admin."""

from __future__ import annotations

from sqlalchemy import Engine

from aftercare.cli import DEMO_ADMIN, DEMO_NURSE, _demo_account, demo_login_notes
from storage.db import session_scope
from storage.models import StaffRole
from storage.passwords import verify_password
from storage.staff import staff_user_by_username


def test_the_demo_nurse_is_a_nurse_and_the_admin_a_separate_account(engine: Engine) -> None:
    nurse = _demo_account(engine, DEMO_NURSE, StaffRole.NURSE, "Demo nurse")
    admin = _demo_account(engine, DEMO_ADMIN, StaffRole.ADMIN, "Demo admin")
    again = _demo_account(engine, DEMO_NURSE, StaffRole.NURSE, "Demo nurse")  # a new password at every start
    with session_scope(engine) as session:
        as_nurse = staff_user_by_username(session=session, username=DEMO_NURSE)
        as_admin = staff_user_by_username(session=session, username=DEMO_ADMIN)
        assert as_nurse is not None and as_admin is not None
        assert (as_nurse.role, as_admin.role) == (StaffRole.NURSE, StaffRole.ADMIN)
        assert verify_password(as_nurse.password_hash, again)
        assert not verify_password(as_nurse.password_hash, nurse)
        assert verify_password(as_admin.password_hash, admin)


def test_the_demo_admin_is_printed_only_when_asked_for(engine: Engine) -> None:
    everyday = demo_login_notes(engine, with_admin=False)
    assert "'nurse' with password" in everyday[0]
    assert not any("'admin' with password" in line for line in everyday)
    with session_scope(engine) as session:
        assert staff_user_by_username(session=session, username=DEMO_ADMIN) is None  # not even made
    asked = demo_login_notes(engine, with_admin=True)
    assert any("'admin' with password" in line for line in asked)
