#!/usr/bin/env python3
"""Aftercare's two everyday commands, needing only Python 3.11 and pip on the machine.

    python3 dev.py run     set up .venv from the lock file, then run the service (`aftercare run`)
    python3 dev.py test    set up .venv, then the whole test suite: lint, types, import contract, tests
    python3 dev.py lock    regenerate requirements.lock from pyproject.toml (maintainers only; needs uv)

This file uses only the standard library on purpose: it is what turns a bare machine into a working one.
The virtual environment is reinstalled only when requirements.lock changes (a hash is kept in .venv).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
LOCK = ROOT / "requirements.lock"
STAMP = VENV / ".aftercare-lock-hash"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def _run(*args: str | Path, env: dict[str, str] | None = None) -> int:
    print("+", " ".join(str(a) for a in args), flush=True)
    return subprocess.call([str(a) for a in args], cwd=ROOT, env=env)  # noqa: S603 - our own fixed commands


def ensure_venv() -> None:
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"Aftercare needs Python 3.11 (this is {sys.version.split()[0]}).")
    wanted = hashlib.sha256(LOCK.read_bytes() + (ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted and (BIN / "aftercare").exists():
        return
    if not (BIN / "python").exists():
        print(f"Creating the virtual environment in {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    py = BIN / "python"
    steps = [
        (
            py,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--require-hashes",
            "-r",
            LOCK,
        ),
        (
            py,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--no-build-isolation",
            "-e",
            ROOT,
        ),
    ]
    for step in steps:
        if _run(*step) != 0:
            sys.exit("Installing Aftercare's locked dependencies failed (see above).")
    STAMP.write_text(wanted)


def run_tests(extra: list[str]) -> int:
    """The test command: every check CI needs that runs on a bare machine."""
    checks: list[tuple[str | Path, ...]] = [
        (BIN / "ruff", "check", "."),
        (BIN / "ruff", "format", "--check", "."),
        (BIN / "mypy",),
        (BIN / "lint-imports",),
    ]
    for check in checks:
        if _run(*check) != 0:
            return 1
    return _run(BIN / "pytest", *extra)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "help"
    if command == "lock":
        return _run(
            "uv",
            "pip",
            "compile",
            "pyproject.toml",
            "--extra",
            "dev",
            "--generate-hashes",
            "--python-version",
            "3.11",
            "--universal",
            "-o",
            LOCK,
        )
    if command not in {"run", "test"}:
        print(__doc__)
        return 0 if command in {"help", "-h", "--help"} else 2
    ensure_venv()
    if command == "test":
        return run_tests(argv[1:])
    return _run(BIN / "aftercare", "run", *argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
