"""`aftercare staff add|list|set-password|totp`: staff console accounts from the command line.

`staff add --role admin` creates the first administrator, who then manages everyone else in the console.
Passwords are read with getpass (asked twice) or, for scripts, from standard input with --password-stdin;
they are never taken from the command line (it lands in shell history and `ps`) and never printed.
`staff totp USERNAME` enrols an account in two-factor sign-in (required for admins in production): it
prints a new setup key and its otpauth:// URI, then saves it only once a code from the app is typed back
(--no-confirm saves it at once, for a key handed over in person); --remove turns it off (a lost phone).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime

from sqlmodel import Session

from bot.database import open_database
from bot.settings import Settings
from storage.db import session_scope
from storage.errors import Conflict
from storage.models import StaffRole, StaffUser
from storage.passwords import hash_password, password_problem
from storage.second_factor import accepted_step, grouped, new_secret, provisioning_uri
from storage.staff import (
    create_staff_user,
    list_staff_users,
    remove_staff_totp,
    set_staff_password,
    set_staff_totp,
    staff_user_by_username,
)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("staff", help="staff console accounts")
    commands = parser.add_subparsers(dest="staff_command", required=True, metavar="ACTION")

    add = commands.add_parser("add", help="create a staff account (e.g. the first admin)")
    add.add_argument("--username", required=True)
    add.add_argument("--role", required=True, choices=[role.value for role in StaffRole])
    add.add_argument("--display-name", help="the name colleagues see (default: the username)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(handler=add_command)

    listing = commands.add_parser("list", help="list staff accounts")
    listing.set_defaults(handler=list_command)

    reset = commands.add_parser("set-password", help="set a new password (ends the account's sessions)")
    reset.add_argument("--username", required=True)
    reset.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    reset.set_defaults(handler=set_password_command)

    totp = commands.add_parser(
        "totp", help="enrol an account in two-factor sign-in (a new setup key), or --remove it"
    )
    totp.add_argument("username")
    choice = totp.add_mutually_exclusive_group()
    choice.add_argument("--remove", action="store_true", help="turn two-factor sign-in off (a lost phone)")
    choice.add_argument(
        "--no-confirm", action="store_true", help="save the new key without asking for a code from the app"
    )
    totp.set_defaults(handler=totp_command)


def add_command(args: argparse.Namespace, settings: Settings) -> int:
    password = read_password(from_stdin=args.password_stdin)
    if password is None:
        return 2
    engine = open_database(settings)
    try:
        with session_scope(engine) as session:
            user = create_staff_user(
                session=session,
                username=args.username,
                password_hash=hash_password(password),
                role=StaffRole(args.role),
                display_name=args.display_name or args.username,
                now=datetime.now(UTC),
                actor="cli",
            )
            username, role = user.username, user.role
    except (Conflict, ValueError) as exc:
        print(f"aftercare: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(f"created {role.value} account {username!r}")
    return 0


def list_command(args: argparse.Namespace, settings: Settings) -> int:
    engine = open_database(settings)
    try:
        with session_scope(engine) as session:
            users = [
                (u.username, u.role.value, u.active, u.totp_secret is not None, u.display_name)
                for u in list_staff_users(session=session)
            ]
    finally:
        engine.dispose()
    if not users:
        print("no staff accounts: create the first with `aftercare staff add --username NAME --role admin`")
    for username, role, active, two_factor, display_name in users:
        status = "active" if active else "deactivated"
        print(f"{username:<24} {role:<6} {status:<12} {'2fa' if two_factor else '-':<4} {display_name}")
    return 0


def set_password_command(args: argparse.Namespace, settings: Settings) -> int:
    password = read_password(from_stdin=args.password_stdin)
    if password is None:
        return 2
    engine = open_database(settings)
    try:
        with session_scope(engine) as session:
            user = _account(session, args.username)
            if user is None or user.id is None:
                return 2
            set_staff_password(
                session=session,
                staff_id=user.id,
                password_hash=hash_password(password),
                actor="cli",
                now=datetime.now(UTC),
            )
    finally:
        engine.dispose()
    print(f"password changed for {args.username!r}; its console sessions have ended")
    return 0


def totp_command(args: argparse.Namespace, settings: Settings) -> int:
    engine = open_database(settings)
    try:
        with session_scope(engine) as session:
            user = _account(session, args.username)
            if user is None or user.id is None:
                return 2
            staff_id, username = user.id, user.username
            if args.remove:
                remove_staff_totp(session=session, staff_id=staff_id, actor="cli", now=datetime.now(UTC))
                print(f"two-factor sign-in is off for {username!r}")
                return 0
        secret = new_secret()
        print(f"New two-factor setup key for {username!r} (time-based, 6 digits, 30 seconds):")
        print(f"  setup key: {grouped(secret)}")
        print(f"  otpauth URI: {provisioning_uri(secret, username=username)}")
        print("Add it to an authenticator app; keep it secret. It is not shown again.")
        step = None  # the confirming code's step: it cannot be used again to sign in
        if not args.no_confirm:
            print("Type the code the app shows now, to check it works: ", end="", flush=True)
            code = sys.stdin.readline().strip()
            step = accepted_step(secret, code, now=datetime.now(UTC), after_step=None)
            if step is None:
                print("aftercare: that code does not match: nothing was changed", file=sys.stderr)
                return 2
        with session_scope(engine) as session:
            set_staff_totp(
                session=session,
                staff_id=staff_id,
                secret=secret,
                actor="cli",
                now=datetime.now(UTC),
                used_step=step,
            )
    finally:
        engine.dispose()
    print(f"two-factor sign-in is on for {username!r}; an earlier key no longer works")
    return 0


def _account(session: Session, username: str) -> StaffUser | None:
    """The staff account by username, or None after saying on stderr that there is none."""
    user = staff_user_by_username(session=session, username=username)
    if user is None:
        print(f"aftercare: no staff account {username!r}", file=sys.stderr)
    return user


def read_password(*, from_stdin: bool) -> str | None:
    """The new password, checked against the rules; None (with the reason on stderr) if unusable."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != password:
            print("aftercare: the two passwords are not the same", file=sys.stderr)
            return None
    problem = password_problem(password)
    if problem is not None:
        print(f"aftercare: {problem}", file=sys.stderr)
        return None
    return password
