"""Turning the engine's decisions into Telegram messages: text (HTML, everything escaped) and buttons.

The first line of every message is neutral (what a locked phone may show). Urgent advice goes in a message
of its own, first, so it is the notification the patient sees. Everything else from one step is joined
into one message, with the buttons of the question it ends on: one message per reply keeps within
Telegram's 1-a-second-per-chat limit and reads well on a small screen.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from flows.advice import render as render_advice
from flows.catalogue import ResolvedProtocol
from flows.clinic import Clinic
from flows.effects import AskConfirmation, AskQuestion, Effect, GiveAdvice, SendEducation
from flows.levels import Level
from flows.messages import say
from flows.parsers import PROBLEMS
from storage.models import Priority

ENGINE_PROBLEMS = {
    "engine.unsure_red_flag": "If you are not sure, please answer yes, and a nurse will check with you.",
    "engine.not_confirmed": "Sorry about that. Please send the reading again.",
    "unreadable": "Sorry, I could not read that.",
}
TELEGRAM_MAX_TEXT = 4096
ButtonData = Callable[[str], str]  # makes the callback data for a button's value


@dataclass(frozen=True, kw_only=True)
class Button:
    label: str
    data: str  # callback_data, 1-64 bytes


@dataclass(frozen=True, kw_only=True)
class Outgoing:
    text: str  # HTML
    urgent: bool = False
    buttons: tuple[tuple[Button, ...], ...] = ()
    purpose: str = "reply"
    level: Level = Level.GREEN  # of the advice it carries

    def markup_json(self) -> str | None:
        return markup_json(self.buttons)

    def priority(self, *, otherwise: Priority) -> Priority:
        """Its place in the outbox, from the level of what it says: amber or red advice (crisis lines
        included) goes ahead of everything; the rest at ``otherwise``, which the caller knows (a reply to
        what someone just did, or routine when the scheduler started it)."""
        return Priority.URGENT if self.level is not Level.GREEN else otherwise


def markup_json(buttons: tuple[tuple[Button, ...], ...]) -> str | None:
    """Telegram's InlineKeyboardMarkup as JSON, for the outbox."""
    if not buttons:
        return None
    rows = [[{"text": b.label, "callback_data": b.data} for b in row] for row in buttons]
    return json.dumps({"inline_keyboard": rows})


@dataclass(kw_only=True)
class Scene:
    """What rendering needs to know about the patient and the moment."""

    clinic: Clinic
    now: datetime
    name: str
    protocol: ResolvedProtocol | None = None
    procedure_date: str = ""
    opener: str | None = None  # e.g. "checkin.start"
    closing: str | None = None  # e.g. the "thank you, next check-in" line
    extra: list[str] = field(default_factory=list)


def hint(problem: str | None) -> str:
    if problem is None:
        return ""
    return PROBLEMS.get(problem) or ENGINE_PROBLEMS.get(problem) or ENGINE_PROBLEMS["unreadable"]


def question_text(protocol: ResolvedProtocol, question_id: str) -> str:
    return protocol.question(question_id).text.strip()


def layout(options: tuple[tuple[str, str], ...], make_data: ButtonData) -> tuple[tuple[Button, ...], ...]:
    """Buttons in rows that fit a phone: 0-10 in two rows, 1-7 in one, choices one per row."""
    buttons = [Button(label=label, data=make_data(value)) for value, label in options]
    if not buttons:
        return ()
    if len(buttons) == 11:
        return (tuple(buttons[:6]), tuple(buttons[6:]))
    if len(buttons) <= 2 or all(len(b.label) <= 2 for b in buttons):
        return (tuple(buttons),)
    return tuple((b,) for b in buttons)


def render(effects: tuple[Effect, ...], scene: Scene, make_data: ButtonData) -> list[Outgoing]:
    """The messages for one step's effects, urgent advice first."""
    clinic_values = {"clinic": scene.clinic.short_name}
    urgent: list[Outgoing] = []
    parts: list[str] = []
    buttons: tuple[tuple[Button, ...], ...] = ()
    procedure = scene.protocol.procedure_words if scene.protocol else "injection"
    if scene.opener:
        parts.append(html.escape(say(scene.opener, name=scene.name)))
    for effect in effects:
        if isinstance(effect, GiveAdvice):
            card = html.escape(
                render_advice(
                    effect.advice_id,
                    clinic=scene.clinic,
                    now=scene.now,
                    procedure=procedure,
                    procedure_date=scene.procedure_date,
                )
            )
            heading, _, rest = card.partition("\n")
            body = f"<b>{heading}</b>" + (f"\n{rest}" if rest else "")
            if effect.level is Level.GREEN:
                parts.append(body)
            else:
                preview = html.escape(say("preview.urgent"))
                urgent.append(
                    Outgoing(text=f"{preview}\n\n{body}", urgent=True, purpose="advice", level=effect.level)
                )
        elif isinstance(effect, SendEducation) and scene.protocol is not None:
            parts.append(html.escape(scene.protocol.education[effect.message_id].text.strip()))
        elif isinstance(effect, AskQuestion) and scene.protocol is not None:
            ask = html.escape(question_text(scene.protocol, effect.question_id))
            again = html.escape(hint(effect.reask_problem))
            parts.append(f"{again}\n\n<b>{ask}</b>" if again else f"<b>{ask}</b>")
            buttons = layout(effect.options, make_data)
        elif isinstance(effect, AskConfirmation):
            parts.append(
                "<b>" + html.escape(say("confirm.question", understood=effect.understood_as)) + "</b>"
            )
            buttons = layout(confirm_buttons(), make_data)
    parts += [html.escape(line) for line in scene.extra]
    if scene.closing:
        parts.append(html.escape(scene.closing))
    messages = list(urgent)
    if parts:
        preview = html.escape(say("preview.checkin", **clinic_values))
        # A question answered by typing (no buttons) is still a question: the console labels by purpose.
        asking = any(isinstance(e, AskQuestion | AskConfirmation) for e in effects)
        purpose = (
            "reminder" if scene.opener == "checkin.reminder" else "checkin_question" if asking else "reply"
        )
        messages.append(
            Outgoing(text=fit(f"{preview}\n\n" + "\n\n".join(parts)), buttons=buttons, purpose=purpose)
        )
    return messages


def confirm_buttons() -> tuple[tuple[str, str], ...]:
    """The buttons under "I read that as ... Is that right?"."""
    return (("yes", say("confirm.yes")), ("no", say("confirm.no")))


def plain(
    message_id: str, *, urgent: bool = False, buttons: tuple[tuple[Button, ...], ...] = (), **values: object
) -> Outgoing:
    """A message from messages.yaml with the neutral preview line."""
    return info(
        say(message_id, **values),
        clinic=str(values.get("clinic", "the clinic")),
        urgent=urgent,
        buttons=buttons,
    )


def info(
    body: str, *, clinic: str, urgent: bool = False, buttons: tuple[tuple[Button, ...], ...] = ()
) -> Outgoing:
    """Plain text (escaped here) under the neutral preview line."""
    preview = say("preview.urgent") if urgent else say("preview.info", clinic=clinic)
    return Outgoing(
        text=fit(f"{html.escape(preview)}\n\n{html.escape(body)}"), urgent=urgent, buttons=buttons
    )


def fit(text: str) -> str:
    """Keep within Telegram's 4096 characters (never expected with our data; a guard, not a habit)."""
    if len(text) <= TELEGRAM_MAX_TEXT:
        return text
    return text[: TELEGRAM_MAX_TEXT - 1] + "…"
