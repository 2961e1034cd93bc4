"""`aftercare staff add|list|set-password|totp` (bot/commands/staff.py): the first admin is made on the
command line and can then log in to the console, and enrolled in two-factor sign-in. Tested here, beside the
console it serves."""

from __future__ import annotations

import argparse
import io
import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from bot.commands import staff
from bot.settings import Settings
from storage.models import StaffRole
from storage.staff import staff_user_by_username
from tests.console.conftest import PASSWORD, Console, csrf_of, login


def run(capsys: pytest.CaptureFixture[str], database_url: str, *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser()
    staff.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["staff", *argv])
    code = int(args.handler(args, Settings(_env_file=None, database_url=database_url)))  # type: ignore[call-arg]
    out, err = capsys.readouterr()
    return code, out, err


def test_the_first_admin_is_created_from_the_command_line_and_can_log_in(
    console: Console, sqlite_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    code, out, _ = run(
        capsys,
        sqlite_url,
        "add",
        "--username",
        "Ada",
        "--role",
        "admin",
        "--display-name",
        "Ada Brown",
        "--password-stdin",
    )
    assert code == 0 and "created admin account 'ada'" in out and PASSWORD not in out
    with console.db() as db:
        user = staff_user_by_username(session=db, username="ada")
        assert user is not None and user.role is StaffRole.ADMIN and user.display_name == "Ada Brown"
    client = console.client()
    assert login(client, "ada", PASSWORD).status_code == 303
    assert "Ada Brown" in client.get("/admin/staff").text
    assert run(capsys, sqlite_url, "list")[1].startswith("ada ")


def test_passwords_are_asked_twice_and_must_match(
    console: Console, sqlite_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter([PASSWORD, "something different"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    code, _, err = run(capsys, sqlite_url, "add", "--username", "nina", "--role", "nurse")
    assert code == 2 and "not the same" in err
    with console.db() as db:
        assert staff_user_by_username(session=db, username="nina") is None


def test_a_weak_password_or_a_taken_username_is_refused(
    console: Console, sqlite_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    code, _, err = run(capsys, sqlite_url, "add", "--username", "nina", "--role", "nurse", "--password-stdin")
    assert code == 2 and "at least 12 characters" in err
    console.staff("nina")
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    code, _, err = run(capsys, sqlite_url, "add", "--username", "NINA", "--role", "nurse", "--password-stdin")
    assert code == 2 and "taken" in err


def test_a_forgotten_password_is_reset_and_old_sessions_end(
    console: Console, sqlite_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    nurse = console.logged_in("nina")
    new_password = "another long passphrase"
    monkeypatch.setattr("sys.stdin", io.StringIO(new_password + "\n"))
    code, out, _ = run(capsys, sqlite_url, "set-password", "--username", "nina", "--password-stdin")
    assert code == 0 and "sessions have ended" in out
    assert nurse.get("/").status_code == 303
    assert login(console.client(), "nina", PASSWORD).status_code == 401
    assert login(console.client(), "nina", new_password).status_code == 303


class PersonWithAnApp(io.StringIO):
    """Standard input typed by someone who reads the setup key off the screen into an authenticator app
    and types back the code it shows (the real clock's: the command reads the real clock)."""

    def __init__(self, capsys: pytest.CaptureFixture[str], *, code: str | None = None) -> None:
        super().__init__()
        self.capsys, self.code, self.screen = capsys, code, ""

    def readline(self, size: int | None = -1) -> str:
        self.screen += self.capsys.readouterr().out
        key = re.search(r"setup key: ([A-Z2-7 ]+)", self.screen)
        assert key is not None, self.screen
        self.key = key.group(1).replace(" ", "")
        return (self.code or pyotp.TOTP(self.key).now()) + "\n"


def test_an_admin_is_enrolled_in_two_factor_sign_in_from_the_command_line(
    console: Console, sqlite_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    console.staff("ada", StaffRole.ADMIN)
    person = PersonWithAnApp(capsys)
    monkeypatch.setattr("sys.stdin", person)
    code, out, _ = run(capsys, sqlite_url, "totp", "ADA")
    screen = person.screen + out
    assert code == 0 and "two-factor sign-in is on for 'ada'" in screen
    assert f"otpauth://totp/Aftercare:ada?secret={person.key}&issuer=Aftercare" in screen
    with console.db() as db:
        user = staff_user_by_username(session=db, username="ada")
        assert user is not None and user.totp_secret == person.key and user.totp_last_step is not None
    console.clock.now = datetime.now(UTC) + timedelta(minutes=1)  # the command ran on the real clock
    client = console.client()
    page = login(client, "ada", PASSWORD)
    assert "Your code" in page.text
    response = client.post(
        "/login/code",
        data={"code": pyotp.TOTP(person.key).at(console.clock.now), "csrf_token": csrf_of(page.text)},
    )
    assert response.status_code == 303
    assert run(capsys, sqlite_url, "list")[1].split()[:4] == ["ada", "admin", "active", "2fa"]


def test_a_key_is_saved_only_when_the_code_typed_back_matches_and_can_be_removed(
    console: Console, sqlite_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    console.staff("nina")
    monkeypatch.setattr("sys.stdin", PersonWithAnApp(capsys, code="not a code"))
    code, _, err = run(capsys, sqlite_url, "totp", "nina")
    assert code == 2 and "nothing was changed" in err
    with console.db() as db:
        assert staff_user_by_username(session=db, username="nina").totp_secret is None  # type: ignore[union-attr]
    code, out, _ = run(capsys, sqlite_url, "totp", "nina", "--no-confirm")
    assert code == 0 and "setup key: " in out
    code, out, _ = run(capsys, sqlite_url, "totp", "nina", "--remove")
    assert code == 0 and "off for 'nina'" in out
    assert login(console.client(), "nina", PASSWORD).status_code == 303
    assert run(capsys, sqlite_url, "totp", "nobody", "--remove")[0] == 2
