"""The console in a real browser: Debian's Chromium driven by Playwright, the app served by uvicorn.

Core actions are done with JavaScript switched off (they must work without it). The QR code on the
discharge slip is read back from a screenshot by a real decoder (zxing-cpp) and must hold the same link
as the slip's text, and that link's token must redeem the patient's invite.

Marked `browser`: without Chromium, Playwright or zxing-cpp these fail when CI=true and skip otherwise.
Set AFTERCARE_SCREENSHOTS_DIR=docs/screenshots to (re)write the documentation's screenshots.
"""

from __future__ import annotations

import importlib
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import uvicorn

from console.app import create_app
from storage.db import make_engine, session_scope
from storage.enrolment import RedeemOutcome, redeem_invite
from storage.escalations import get_escalation
from storage.models import EscalationOutcome, EscalationStatus, StaffRole
from storage.passwords import hash_password
from storage.staff import create_staff_user
from tests.console.conftest import PASSWORD, Clock, make_settings
from tests.console.demo_data import Demo, seed
from tests.console.pngread import read_png

pytestmark = pytest.mark.browser
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
LINK = re.compile(r"^https://t\.me/AftercareLocalBot\?start=([A-Za-z0-9_-]{1,64})$")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}:
        pytest.fail(f"browser tests are required in CI (CI=true): {reason}")
    pytest.skip(reason)


def _module(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError as error:
        _unavailable(f"{name} is not installed ({error})")
        raise


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = _module("playwright.sync_api")
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def site(sqlite_url: str) -> Iterator[tuple[str, Demo]]:
    """The console on 127.0.0.1 (a free port), on a database holding a demo clinic day."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    clock = Clock()
    settings = make_settings(sqlite_url, console_base_url=base_url)
    engine = make_engine(sqlite_url)
    with session_scope(engine) as db:
        nurse = create_staff_user(
            session=db,
            username="nina",
            password_hash=hash_password(PASSWORD),
            role=StaffRole.NURSE,
            display_name="Nina Patel",
            now=clock.now,
        )
        create_staff_user(
            session=db,
            username="ada",
            password_hash=hash_password(PASSWORD),
            role=StaffRole.ADMIN,
            display_name="Ada Brown",
            now=clock.now,
        )
    demo = seed(engine, clinic=settings.clinic, now=clock.now, nurse_id=nurse.id)
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, engine, clock=clock), log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            time.sleep(0.05)
        yield base_url, demo
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        engine.dispose()
        listener.close()


@contextmanager
def page_for(browser: Any, base_url: str, *, javascript: bool, username: str = "nina") -> Iterator[Any]:
    """A logged-in page; browser console errors (a CSP violation is one) fail the test."""
    context = browser.new_context(java_script_enabled=javascript, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(f"{base_url}/")
    assert page.url == f"{base_url}/login"
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/")
    try:
        yield page
        assert errors == []
    finally:
        context.close()


def test_a_nurse_acknowledges_and_closes_a_red_flag_without_javascript(
    browser: Any, site: tuple[str, Demo], sqlite_url: str
) -> None:
    expect = _module("playwright.sync_api").expect  # assertions that wait for the page to settle
    base_url, demo = site
    with page_for(browser, base_url, javascript=False) as page:
        waiting = page.locator("#waiting-title + .escalations > li")
        expect(waiting).to_have_count(2)
        first = waiting.nth(0)
        expect(first).to_have_attribute("data-escalation", str(demo.red_escalation_id))  # red first
        expect(first).to_contain_text("I can't feel the toilet paper")
        expect(first).to_contain_text("red.ces.screen_positive")

        first.get_by_role("link", name=re.compile("^Open")).click()
        page.get_by_role("button", name=re.compile("^Acknowledge")).click()
        expect(page.locator("h1 + .lede")).to_contain_text("Acknowledged by Nina Patel")
        page.get_by_label("Advised A&E").check()
        page.get_by_role("button", name="Close escalation").click()
        page.wait_for_url(f"{base_url}/?closed={demo.red_escalation_id}")
        expect(page.get_by_role("status")).to_contain_text(f"Escalation {demo.red_escalation_id} is closed")

        # The amber one in three clicks: open it, choose the outcome, close.
        page.locator(f"[data-escalation='{demo.amber_escalation_id}']").get_by_role("link").first.click()
        page.get_by_label("Called the patient").check()
        page.get_by_role("button", name="Close escalation").click()
        page.wait_for_url(f"{base_url}/?closed={demo.amber_escalation_id}")
        expect(page.locator("#waiting-title + .empty")).to_be_visible()

    engine = make_engine(sqlite_url)
    try:
        with session_scope(engine) as db:
            red = get_escalation(session=db, escalation_id=demo.red_escalation_id)
            amber = get_escalation(session=db, escalation_id=demo.amber_escalation_id)
            assert red is not None and amber is not None
            assert (red.status, red.outcome) == (EscalationStatus.CLOSED, EscalationOutcome.ADVISED_AE)
            assert red.acknowledged_at is not None and red.acknowledged_by == red.closed_by
            assert (amber.status, amber.outcome) == (
                EscalationStatus.CLOSED,
                EscalationOutcome.CALLED_PATIENT,
            )
    finally:
        engine.dispose()


def test_the_discharge_slip_qr_code_holds_the_invite_link(
    browser: Any, site: tuple[str, Demo], sqlite_url: str
) -> None:
    zxingcpp = _module("zxingcpp")
    expect = _module("playwright.sync_api").expect
    base_url, _ = site
    with page_for(browser, base_url, javascript=True) as page:
        page.get_by_role("link", name="Enrol a patient").click()
        page.get_by_label("First name or initials").fill("Lee")
        page.get_by_label("Procedure").select_option(label="Sacroiliac joint injection")
        page.get_by_label("Date").fill("2026-11-24")
        page.get_by_label("Time").fill("09:30")
        page.get_by_role("button", name="Enrol and print the slip").click()

        link = page.locator("#invite-link").inner_text()
        match = LINK.match(link)
        assert match is not None, link
        image = read_png(page.locator(".slip__qr").screenshot())
        decoded = [code.text for code in zxingcpp.read_barcodes(image.view())]
        assert decoded == [link]

        expect(page.get_by_role("button", name="Print the slip")).to_be_visible()  # shown by console.js
        page.emulate_media(media="print")
        expect(page.locator(".site-header")).to_be_hidden()
        expect(page.locator(".slip")).to_be_visible()

    engine = make_engine(sqlite_url)
    try:
        with session_scope(engine) as db:
            result = redeem_invite(
                session=db, token=match.group(1), chat_id=9_300_000_001, user_id=1, now=Clock().now
            )
            assert result.outcome is RedeemOutcome.OK
            assert result.patient is not None and result.patient.display_name == "Lee"
    finally:
        engine.dispose()


def test_every_main_page_renders_without_a_browser_error(browser: Any, site: tuple[str, Demo]) -> None:
    expect = _module("playwright.sync_api").expect
    base_url, demo = site
    shots = os.environ.get("AFTERCARE_SCREENSHOTS_DIR")
    pages = [
        ("queue", "/", "Escalations"),
        ("escalation", f"/escalations/{demo.red_escalation_id}", "What happened"),
        ("patient", f"/patients/{demo.followed_patient_id}", "Timeline"),
        ("patients", "/patients", "Patients"),
        ("enrol", "/enrol", "Enrol a patient"),
        ("admin-staff", "/admin/staff", "Staff accounts"),
        ("admin-audit", "/admin/audit", "Audit trail"),
        ("admin-clinic", "/admin/clinic", "Clinic settings"),
    ]
    with page_for(browser, base_url, javascript=True, username="ada") as page:
        for name, path, heading in pages:
            page.goto(f"{base_url}{path}")
            expect(page.get_by_role("heading", name=heading).first).to_be_visible()
            if shots:
                page.screenshot(
                    path=str(Path(shots) / f"console-{name}.png"), full_page=name != "admin-audit"
                )
        if shots:
            page.goto(f"{base_url}/enrol")
            page.get_by_label("First name or initials").fill("Lee")
            page.get_by_label("Procedure").select_option(label="Epidural steroid injection")
            page.get_by_label("Time").fill("09:30")
            page.get_by_role("button", name="Enrol and print the slip").click()
            page.screenshot(path=str(Path(shots) / "console-slip.png"), full_page=True)
            page.emulate_media(media="print")
            page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
            page.screenshot(path=str(Path(shots) / "console-slip-print.png"), full_page=True)
    if shots:
        with page_for(browser, base_url, javascript=False) as page:
            page.context.clear_cookies()
            page.goto(f"{base_url}/login")
            page.screenshot(path=str(Path(shots) / "console-login.png"))
