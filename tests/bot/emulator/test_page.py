"""The patient's phone page: served by the emulator, self-contained, locked down, and labelled."""

import re
from html.parser import HTMLParser

import httpx

from bot.emulator import Emulator
from bot.emulator.page import STATIC_DIR


class _Labels(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.controls: list[str] = []
        self.labelled: set[str] = set()
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in {"input", "select", "textarea"}:
            self.controls.append(found.get("id") or "?")
        if tag == "label" and found.get("for"):
            self.labelled.add(found["for"] or "")
        for name in ("src", "href"):
            if tag in {"script", "link"} and found.get(name):
                self.sources.append(found[name] or "")


async def test_the_page_is_served_with_a_strict_content_policy(http: httpx.AsyncClient) -> None:
    response = await http.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "<script>" not in response.text, "no inline script: the policy would block it"


async def test_every_control_has_a_label_and_assets_are_local(http: httpx.AsyncClient) -> None:
    parser = _Labels()
    parser.feed((await http.get("/")).text)
    assert parser.controls and set(parser.controls) <= parser.labelled
    assert all(source.startswith("/_emulator/static/") for source in parser.sources)
    for source in parser.sources:
        assert (await http.get(source)).status_code == 200


def test_the_script_never_puts_names_or_notices_in_as_html() -> None:
    script = (STATIC_DIR / "phone.js").read_text()
    assignments = re.findall(r"\.innerHTML\s*=\s*([^;]+);", script)
    assert assignments == ["message.html"], "only emulator-rendered message HTML may use innerHTML"
    assert not re.search(r"https?://(?!t\.me/)[a-z]", script), "no external hosts: no CDN, no tracking"


async def test_a_bot_message_with_markup_is_shown_safely(emulator: Emulator, http: httpx.AsyncClient) -> None:
    patient = emulator.new_user("Ann")
    await patient.start()
    await http.post(
        f"/bot{emulator.token}/sendMessage",
        json={
            "chat_id": patient.chat_id,
            "text": "<b>Call 111</b> &lt;img src=x onerror=alert(1)&gt;",
            "parse_mode": "HTML",
        },
    )
    chat = (await http.get(f"/_emulator/chats/{patient.chat_id}")).json()["result"]
    assert chat["messages"][-1]["html"] == "<b>Call 111</b> &lt;img src=x onerror=alert(1)&gt;"
