"""The printable discharge slip: the patient's invite (deep link and QR code) and the clinic's after-care
advice in the same words the bot uses (flows/data/education.yaml, the advice catalogue's catch-all line).

The invite token appears only here, once, at enrolment (storage keeps its digest only). The QR code is
the qrcode library's SVG path output, inlined: no image request, no inline style, nothing external.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import qrcode
import qrcode.constants
import qrcode.image.svg
from markupsafe import Markup

from flows.advice import bundled_catalogue, clinic_values, fill
from flows.catalogue import ResolvedProtocol
from flows.clinic import Clinic
from flows.protocol import EducationMessage


@dataclass(frozen=True, kw_only=True)
class SlipSection:
    heading: str
    lines: list[str]


@dataclass(frozen=True, kw_only=True)
class Slip:
    reference: str
    display_name: str
    procedure: str
    performed_at: datetime
    link: str
    qr_svg: Markup
    expires_at: datetime
    sections: list[SlipSection]


def invite_link(bot_username: str, token: str) -> str:
    return f"https://t.me/{bot_username}?start={token}"


def qr_svg(data: str) -> Markup:
    """An inline SVG QR code of `data` (medium error correction: survives a crease or a smudge)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=4)
    code.add_data(data)
    code.make(fit=True)
    image = code.make_image(image_factory=qrcode.image.svg.SvgPathFillImage)
    svg: str = image.to_string(encoding="unicode")
    # qrcode's own markup: the data is drawn as path geometry, never written as text, so it is safe to inline.
    return Markup(  # noqa: S704
        svg.replace("<svg ", '<svg class="qr" role="img" aria-label="QR code of the invite link" ', 1)
    )


def build_slip(
    *,
    clinic: Clinic,
    protocol: ResolvedProtocol,
    reference: str,
    display_name: str,
    performed_at: datetime,
    diabetic: bool,
    bot_username: str,
    token: str,
    expires_at: datetime,
) -> Slip:
    link = invite_link(bot_username, token)
    return Slip(
        reference=reference,
        display_name=display_name,
        procedure=protocol.title,
        performed_at=performed_at,
        link=link,
        qr_svg=qr_svg(link),
        expires_at=expires_at,
        sections=advice_sections(clinic, protocol, diabetic=diabetic, reference=reference),
    )


def advice_sections(
    clinic: Clinic, protocol: ResolvedProtocol, *, diabetic: bool, reference: str
) -> list[SlipSection]:
    """Day-0 safety, what to expect (flare, steroid, blood sugar), red flags and where to go, the clinic."""

    def lessons(*ids: str) -> list[str]:
        return [
            lesson.text for lesson_id in ids if (lesson := _lesson(protocol, lesson_id, diabetic)) is not None
        ]

    values = clinic_values(clinic, procedure=protocol.procedure_words)
    return [
        SlipSection(
            heading="Today", lines=lessons("edu.day0_safety", "edu.numbing_wears_off", "edu.mbb_diary")
        ),
        SlipSection(
            heading="The next few days",
            lines=lessons("edu.flare", "edu.flare_rfd", "edu.steroid_takes_time", "edu.diabetes_checks"),
        ),
        SlipSection(
            heading="Get help urgently",
            lines=[
                *lessons("edu.red_flags"),
                f"A&E: {clinic.emergency_department}, or your nearest A&E. Do not drive yourself.",
                f"At any time, day or night: {clinic.wording.nhs_111}.",
                f"In an emergency call {clinic.wording.emergency}.",
            ],
        ),
        SlipSection(
            heading=f"Contact {clinic.short_name}",
            lines=[
                fill(bundled_catalogue().catch_all_open, values),
                f"When you call, give your reference: {reference}.",
            ],
        ),
    ]


def _lesson(protocol: ResolvedProtocol, lesson_id: str, diabetic: bool) -> EducationMessage | None:
    # Only the protocol's own lessons: each protocol's wording is signed off for its procedure.
    lesson = protocol.education.get(lesson_id)
    if lesson is None:
        return None
    if lesson.steroid_only and not protocol.steroid:
        return None
    if lesson.applies.diabetic is not None and lesson.applies.diabetic != diabetic:
        return None
    return lesson
