"""The /_emulator/ control API the phone page uses: people, chats, the host's clock, faults and limits."""

import datetime as dt

import httpx

from bot.emulator import Emulator, FaultKind


async def post(http: httpx.AsyncClient, path: str, body: dict[str, object]) -> httpx.Response:
    return await http.post(f"/_emulator{path}", json=body)


async def test_a_new_patient_writes_and_the_chat_shows_both_sides(
    emulator: Emulator, http: httpx.AsyncClient
) -> None:
    created = (await post(http, "/users", {"first_name": "Ann", "username": "ann_s"})).json()["result"]
    await post(http, f"/users/{created['id']}/start", {"token": "abc_123"})
    await post(http, f"/users/{created['id']}/send", {"text": "<b>not markup</b>"})
    chat = (await http.get(f"/_emulator/chats/{created['id']}")).json()["result"]
    assert [m["text"] for m in chat["messages"]] == ["/start abc_123", "<b>not markup</b>"]
    assert chat["messages"][1]["html"] == "&lt;b&gt;not markup&lt;/b&gt;"
    assert chat["messages"][0]["html"] == '<span class="command">/start</span> abc_123'
    unchanged = (await http.get(f"/_emulator/chats/{created['id']}?since={chat['version']}")).json()["result"]
    assert unchanged["changed"] is False
    state = (await http.get("/_emulator/state")).json()["result"]
    assert state["users"][0]["started"] is True and state["clock"] is False


async def test_pressing_editing_blocking_and_media_through_the_api(
    emulator: Emulator, http: httpx.AsyncClient
) -> None:
    emulator.enforce_limits = False
    patient = emulator.new_user("Ann")
    await patient.start()
    keyboard = {"inline_keyboard": [[{"text": "Yes", "callback_data": "y"}]]}
    sent = await http.post(
        f"/bot{emulator.token}/sendMessage",
        json={"chat_id": patient.chat_id, "text": "Fever?", "reply_markup": keyboard},
    )
    message_id = sent.json()["result"]["message_id"]
    pressed = await post(http, f"/users/{patient.id}/press", {"message_id": message_id, "data": "y"})
    missing = await post(http, f"/users/{patient.id}/press", {"message_id": message_id, "data": "n"})
    edited = await post(http, f"/users/{patient.id}/edit", {"message_id": 1, "text": "/start again"})
    for action in ("photo", "voice", "sticker", "location", "contact"):
        assert (await post(http, f"/users/{patient.id}/{action}", {})).json()["ok"] is True
    await post(http, f"/users/{patient.id}/block", {})
    chat = (await http.get(f"/_emulator/chats/{patient.chat_id}")).json()["result"]
    assert pressed.json()["ok"] is True and isinstance(pressed.json()["result"], str)
    assert missing.status_code == 400 and "no button" in missing.json()["error"]
    assert edited.json()["result"]["edit_date"] > 0
    assert [m["kind"] for m in chat["messages"]][-5:] == ["photo", "voice", "sticker", "location", "contact"]
    assert chat["blocked"] is True


async def test_a_staff_group_member_acts_in_the_group(emulator: Emulator, http: httpx.AsyncClient) -> None:
    nurse = (await post(http, "/users", {"first_name": "Nia"})).json()["result"]
    group = (await post(http, "/groups", {"title": "Staff", "member_ids": [nurse["id"]]})).json()["result"]
    assert group["id"] < 0
    await post(http, f"/users/{nurse['id']}/send", {"text": "/status", "chat_id": group["id"]})
    chat = (await http.get(f"/_emulator/chats/{group['id']}")).json()["result"]
    assert [m["text"] for m in chat["messages"]] == ["/status"]


async def test_the_clock_control_calls_the_host_hook(emulator: Emulator, http: httpx.AsyncClient) -> None:
    moved: list[dt.timedelta] = []

    async def advance(by: dt.timedelta) -> str:
        moved.append(by)
        return "Simulated time: Mon 09:00"

    refused = await post(http, "/clock", {"step": "day"})
    emulator.on_advance_clock = advance
    answered = await post(http, "/clock", {"step": "day"})
    assert refused.status_code == 400
    assert answered.json()["result"] == {"text": "Simulated time: Mon 09:00"}
    assert moved == [dt.timedelta(days=1)]
    assert (await http.get("/_emulator/state")).json()["result"]["clock"] is True


async def test_faults_and_limits_can_be_set_at_runtime(emulator: Emulator, http: httpx.AsyncClient) -> None:
    await post(http, "/faults", {"seed": 3, "rate": 0.5, "kinds": ["server_error"], "methods": ["getMe"]})
    assert emulator.faults.plan.rate == 0.5 and emulator.faults.plan.kinds == (FaultKind.SERVER_ERROR,)
    await post(http, "/faults", {})
    assert emulator.faults.plan.rate == 0
    await post(http, "/limits", {"enforce": False})
    assert emulator.enforce_limits is False


async def test_changes_must_be_json(emulator: Emulator, http: httpx.AsyncClient) -> None:
    form = await http.post("/_emulator/users", data={"first_name": "Mallory"})
    not_object = await http.post("/_emulator/users", json=["x"])
    bad_field = await post(http, "/users", {"first_name": 7})
    assert [r.status_code for r in (form, not_object, bad_field)] == [400, 400, 400]
    assert emulator.users == {}


async def test_an_update_no_person_can_make_is_queued_exactly_as_given(
    emulator: Emulator, http: httpx.AsyncClient
) -> None:
    unreadable = {"message": {"message_id": 1, "date": 1, "chat": {"id": 5, "type": "private"}, "poll": {}}}
    queued = (await post(http, "/updates", {"update": unreadable})).json()["result"]
    reused = (await post(http, "/updates", {"update": unreadable, "update_id": queued["update_id"]})).json()
    filtered = (await post(http, "/updates", {"update": {"chat_member": {}}})).json()["result"]
    empty = await post(http, "/updates", {"update": {}})
    assert [u["update_id"] for u in emulator.updates.pending()] == [queued["update_id"]] * 2
    assert emulator.updates.pending()[0]["message"] == unreadable["message"]
    assert reused["ok"] is True and filtered == {"update_id": None}
    assert empty.status_code == 400
    polled = await http.post(f"/bot{emulator.token}/getUpdates", json={"timeout": 0})
    assert polled.json()["result"][0]["message"]["poll"] == {}
