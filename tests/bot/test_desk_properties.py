"""Property tests of the desk (bot/desk.py) with a real SQLite session and no HTTP: whatever a patient types
or whatever callback data arrives (random, forged, another patient's real button), the desk does not crash,
always answers (a queued message, or the notice a button press shows), and a message to one patient never
mentions another patient's name or reference. Each example runs in a transaction that is rolled back."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.conversation import CHECKIN_BUTTON, Conversation
from bot.desk import Desk
from bot.scheduler import Scheduler
from bot.staff_alerts import ACK_PREFIX, StaffAlerts
from flows.catalogue import bundled_protocols
from storage.db import make_engine, make_session, session_scope
from storage.followup import enrol_on_protocol
from storage.migrate import upgrade
from storage.models import Answer, CallbackToken, CheckIn, CheckInStatus, Episode, OutboundMessage, Patient
from tests.bot.conftest import local_settings

STAFF_CHAT = -4_000_000_001
ALICE_CHAT, ZEB_CHAT = 700_000_101, 700_000_102
NOW = datetime(2026, 11, 23, 13, 30, tzinfo=UTC)  # both patients are in their day-0 check-in
EXAMPLES = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text as people (and broken clients) send it: any script, emoji and joiners, control characters.
ANY_TEXT = st.text(st.characters(codec="utf-8"), min_size=1, max_size=300)
EMOJI = st.text(st.sampled_from("👍🙂😷🤒💉🩹❤️\u200d🔥🇬🇧👩🏽\u200d⚕️"), min_size=1, max_size=8)
CONTROL = st.text(
    st.characters(min_codepoint=0, max_codepoint=0x1F) | st.sampled_from("\u200b\u202e\ufeff\x7f"),
    min_size=1,
    max_size=10,
)
MESSAGES = st.one_of(ANY_TEXT, EMOJI, CONTROL, ANY_TEXT.map(lambda t: t + " I can't feel my legs"))


@dataclass(frozen=True, kw_only=True)
class Clinic:
    """Two patients in the middle of a check-in, and the desk they write to."""

    desk: Desk = field(repr=False)
    engine: Engine = field(repr=False)
    names: dict[int, str]  # chat -> the patient's name
    references: dict[int, str]  # chat -> the patient's reference
    zeb_buttons: tuple[str, ...]  # Zebedee's real callback data
    zeb_messages: int  # how many messages were queued for Zebedee before the examples

    def session(self) -> Iterator[Session]:
        session = make_session(self.engine)
        try:
            yield session
        finally:
            session.rollback()
            session.close()


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    url = f"sqlite:///{tmp_path_factory.mktemp('desk') / 'desk.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    settings_ = local_settings(url)
    staff = StaffAlerts(clinic=settings_.clinic, staff_chat_id=STAFF_CHAT, alert_amber=True)
    conversation = Conversation(clinic=settings_.clinic, staff=staff)
    desk = Desk(clinic=settings_.clinic, conversation=conversation, staff_chat_id=STAFF_CHAT)
    start = NOW - timedelta(hours=5)
    for chat_id, name in ((ALICE_CHAT, "Alice"), (ZEB_CHAT, "Zebedee")):
        with session_scope(engine) as session:
            token = enrol_on_protocol(
                session=session,
                clinic=settings_.clinic,
                protocol=bundled_protocols()["sacroiliac-joint-injection"],
                display_name=name,
                performed_at=start - timedelta(hours=1),
                diabetic=True,
                invite_ttl=timedelta(hours=72),
                now=start,
                actor="test",
            ).invite_token
        with session_scope(engine) as session:
            desk.start(session, chat_id=chat_id, user_id=chat_id, token=token, now=start)
            desk.consent(session, chat_id=chat_id, agreed=True, now=start)
    Scheduler(engine=engine, clinic=settings_.clinic, conversation=conversation, owner="test").tick(now=NOW)
    with session_scope(engine) as session:
        patients = {p.telegram_chat_id: p for p in session.exec(select(Patient)).all()}
        zeb = patients[ZEB_CHAT]
        tokens = session.exec(
            select(CallbackToken.token)
            .join(CheckIn, col(CheckIn.id) == CallbackToken.checkin_id)
            .join(Episode, col(Episode.id) == CheckIn.episode_id)
            .where(Episode.patient_id == zeb.id, CheckIn.status == CheckInStatus.AWAITING_REPLY)
        ).all()
        zeb_messages = len(_queued(session, ZEB_CHAT))
    assert tokens, "Zebedee's first question has buttons"
    yield Clinic(
        desk=desk,
        engine=engine,
        names={c: p.display_name for c, p in patients.items() if c},
        references={c: p.reference for c, p in patients.items() if c},
        zeb_buttons=tuple(CHECKIN_BUTTON + t for t in tokens),
        zeb_messages=zeb_messages,
    )
    engine.dispose()


def _queued(session: Session, chat_id: int) -> list[OutboundMessage]:
    query = (
        select(OutboundMessage).where(OutboundMessage.chat_id == chat_id).order_by(col(OutboundMessage.id))
    )
    return list(session.exec(query).all())


def _assert_nothing_about_zebedee(clinic: Clinic, session: Session, *, said: str) -> None:
    for message in _queued(session, ALICE_CHAT):
        for secret in (clinic.names[ZEB_CHAT], clinic.references[ZEB_CHAT]):
            assert secret not in message.text or secret in said, f"Alice was told {secret!r}"
    assert len(_queued(session, ZEB_CHAT)) == clinic.zeb_messages  # and Zebedee was sent nothing
    for alert in _queued(session, STAFF_CHAT):  # the staff group sees references and rules, never names
        assert all(name not in alert.text for name in clinic.names.values())


def press(desk: Desk, session: Session, *, chat_id: int, data: str) -> str:
    """What bot/handlers.py does with a button press from a private chat."""
    if data.startswith(ACK_PREFIX):
        return desk.staff_acknowledge(session, chat_id=chat_id, user_id=chat_id, data=data, now=NOW)
    return desk.button(session, chat_id=chat_id, data=data, now=NOW, inbound_id=None)


@EXAMPLES
@given(texts=st.lists(MESSAGES, min_size=1, max_size=4))
def test_whatever_a_patient_types_they_get_a_reply_and_nothing_about_anyone_else(
    clinic: Clinic, texts: list[str]
) -> None:
    for session in clinic.session():
        for text in texts:
            before = len(_queued(session, ALICE_CHAT))
            clinic.desk.text(session, chat_id=ALICE_CHAT, text=text, now=NOW, inbound_id=None)
            assert len(_queued(session, ALICE_CHAT)) > before, f"no reply to {text!r}"
        _assert_nothing_about_zebedee(clinic, session, said="".join(texts))


@EXAMPLES
@given(
    caption=st.none() | MESSAGES,
    kind=st.sampled_from(["photo", "sticker", "voice", "document", "other"]),
    edit=MESSAGES,
)
def test_media_and_edits_always_get_a_reply(
    clinic: Clinic, caption: str | None, kind: str, edit: str
) -> None:
    for session in clinic.session():
        before = len(_queued(session, ALICE_CHAT))
        clinic.desk.media(session, chat_id=ALICE_CHAT, kind=kind, caption=caption, now=NOW, inbound_id=None)
        assert len(_queued(session, ALICE_CHAT)) > before
        clinic.desk.edited(session, chat_id=ALICE_CHAT, text=edit, now=NOW, inbound_id=None)
        assert len(_queued(session, ALICE_CHAT)) > before + 1
        _assert_nothing_about_zebedee(clinic, session, said=(caption or "") + edit)


FORGED = st.one_of(
    st.text(max_size=64),
    st.text(max_size=62).map(lambda t: CHECKIN_BUTTON + t),
    st.text(max_size=60).map(lambda t: ACK_PREFIX + t),
    st.integers(min_value=-5, max_value=10**12).map(lambda n: f"{ACK_PREFIX}{n}"),
    st.sampled_from(["consent:yes", "consent:no", "stop:no", "c:", "ack:", ""]),
)


@EXAMPLES
@given(data=st.lists(FORGED, min_size=1, max_size=3))
def test_forged_callback_data_gets_a_notice_and_changes_nothing(clinic: Clinic, data: list[str]) -> None:
    for session in clinic.session():
        answers_before = len(session.exec(select(Answer)).all())
        for item in data:
            notice = press(clinic.desk, session, chat_id=ALICE_CHAT, data=item)
            assert isinstance(notice, str) and notice.strip(), f"no notice for {item!r}"
        assert len(session.exec(select(Answer)).all()) == answers_before
        _assert_nothing_about_zebedee(clinic, session, said="")


@settings(max_examples=20, deadline=None)
@given(index=st.integers(min_value=0, max_value=50))
def test_another_patients_real_button_reveals_nothing_and_answers_nothing(clinic: Clinic, index: int) -> None:
    data = clinic.zeb_buttons[index % len(clinic.zeb_buttons)]
    for session in clinic.session():
        answers_before = len(session.exec(select(Answer)).all())
        notice = press(clinic.desk, session, chat_id=ALICE_CHAT, data=data)
        assert notice == "Sorry, that button no longer works."
        assert len(session.exec(select(Answer)).all()) == answers_before
        _assert_nothing_about_zebedee(clinic, session, said="")
        # Zebedee's own press of the same button still works: Alice's attempt did not use it up.
        assert press(clinic.desk, session, chat_id=ZEB_CHAT, data=data) == "Thank you"


@EXAMPLES
@given(name=st.text(st.characters(codec="utf-8", exclude_characters=" \n"), min_size=1, max_size=40))
def test_any_command_gets_a_reply(clinic: Clinic, name: str) -> None:
    for session in clinic.session():
        before = len(_queued(session, ALICE_CHAT))
        clinic.desk.command(session, chat_id=ALICE_CHAT, name=name.lower(), now=NOW)
        assert len(_queued(session, ALICE_CHAT)) == before + 1
        _assert_nothing_about_zebedee(clinic, session, said=name)
