"""Advice cards: what to do, where, how fast, in the clinic's words, written as data.

Each card follows the NHS care-card pattern (one clear call to action in the heading, a few short lines,
self-contained) at a reading age of about 9-11. Rendering fills in the clinic's names and numbers and is
office-hours aware: a red card names the clinic's phone only while someone will answer it. Pure: the
caller passes ``now``.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from importlib.resources import files

from pydantic import BaseModel, ConfigDict, Field

from flows.clinic import Clinic
from flows.levels import Level
from flows.protocol import ID
from flows.yamlsource import load_model

PLACEHOLDERS = frozenset(
    {
        "clinic",
        "clinic_phone",
        "office_hours",
        "ed",
        "gp",
        "nhs_111",
        "emergency",
        "crisis",
        "samaritans",
        "procedure",
        "procedure_date",
    }
)


class AdviceCard(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID)
    level: Level
    heading: str = Field(min_length=3, max_length=80)
    lines: list[str] = Field(default_factory=list)
    when_clinic_open: str | None = Field(default=None, description="added only while the clinic is open")
    when_clinic_closed: str | None = Field(default=None, description="added only while the clinic is closed")
    catch_all: bool = Field(default=True, description="end with the 'worried about anything else' line")
    sources: list[str] = Field(default_factory=list)


class AdviceCatalogue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    catch_all_open: str
    catch_all_closed: str
    cards: list[AdviceCard]

    def card(self, advice_id: str) -> AdviceCard:
        for card in self.cards:
            if card.id == advice_id:
                return card
        raise KeyError(f"no advice card {advice_id!r}")

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(card.id for card in self.cards)


def placeholders_in(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def check_placeholders(catalogue: AdviceCatalogue) -> list[str]:
    """Problems: placeholders that rendering would not know."""
    problems = []
    texts = [("catch_all_open", catalogue.catch_all_open), ("catch_all_closed", catalogue.catch_all_closed)]
    for card in catalogue.cards:
        texts += [
            (card.id, t)
            for t in (card.heading, *card.lines, card.when_clinic_open or "", card.when_clinic_closed or "")
        ]
    for where, text in texts:
        unknown = placeholders_in(text) - PLACEHOLDERS
        if unknown:
            problems.append(f"{where}: unknown placeholder(s) {sorted(unknown)}")
    return problems


@cache
def bundled_catalogue() -> AdviceCatalogue:
    text = (files("flows") / "data" / "advice.yaml").read_text(encoding="utf-8")
    return load_model(AdviceCatalogue, text, source="flows/data/advice.yaml")


def fill(text: str, values: Mapping[str, str]) -> str:
    return text.format_map(dict(values))


def clinic_values(
    clinic: Clinic, *, procedure: str = "injection", procedure_date: str = ""
) -> dict[str, str]:
    return {
        "clinic": clinic.short_name,
        "clinic_phone": clinic.phone,
        "office_hours": clinic.office_hours_text(),
        "ed": clinic.emergency_department,
        "gp": clinic.wording.gp,
        "nhs_111": clinic.wording.nhs_111,
        "emergency": clinic.wording.emergency,
        "crisis": clinic.wording.mental_health_crisis,
        "samaritans": clinic.wording.samaritans,
        "procedure": procedure,
        "procedure_date": procedure_date or "recently",
    }


def render(
    advice_id: str,
    *,
    clinic: Clinic,
    now: datetime,
    procedure: str = "injection",
    procedure_date: str = "",
    catalogue: AdviceCatalogue | None = None,
) -> str:
    """The card as plain text lines: heading first, then the lines, the office-hours line, the catch-all."""
    catalogue = catalogue or bundled_catalogue()
    card = catalogue.card(advice_id)
    values = clinic_values(clinic, procedure=procedure, procedure_date=procedure_date)
    is_open = clinic.is_open(now)
    parts = [fill(card.heading, values), *(fill(line, values) for line in card.lines)]
    extra = card.when_clinic_open if is_open else card.when_clinic_closed
    if extra:
        parts.append(fill(extra, values))
    if card.catch_all:
        parts.append(fill(catalogue.catch_all_open if is_open else catalogue.catch_all_closed, values))
    return "\n".join(parts)
