"""Lookups several pages share: a procedure's title, a patient's current episode, staff names by id."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from flows.advice import bundled_catalogue
from flows.catalogue import ResolvedProtocol, bundled_protocols
from storage.followup import pinned_protocol
from storage.models import Episode, EpisodeStatus, StaffUser


def procedure_title(procedure_id: str) -> str:
    protocol = bundled_protocols().get(procedure_id)
    return protocol.title if protocol is not None else procedure_id.replace("-", " ").capitalize()


def episode_protocol(db: Session, episode: Episode) -> ResolvedProtocol | None:
    """The protocol the episode is pinned to, else today's version of it, else None."""
    try:
        return pinned_protocol(session=db, digest=episode.protocol_digest)
    except LookupError:
        return bundled_protocols().get(episode.procedure_id)


def current_episodes(db: Session, patient_ids: Iterable[int]) -> dict[int, Episode]:
    """Each patient's current episode: the latest active one, else the latest of any status."""
    ids = sorted(set(patient_ids))
    if not ids:
        return {}
    episodes = db.exec(
        select(Episode)
        .where(col(Episode.patient_id).in_(ids))
        .order_by(col(Episode.performed_at), col(Episode.id))
    ).all()
    chosen: dict[int, Episode] = {}
    for episode in episodes:
        previous = chosen.get(episode.patient_id)
        if (
            previous is None
            or episode.status is EpisodeStatus.ACTIVE
            or previous.status is not EpisodeStatus.ACTIVE
        ):
            chosen[episode.patient_id] = episode
    return chosen


def staff_names(db: Session, staff_ids: Iterable[int | None]) -> dict[int, str]:
    ids = sorted({staff_id for staff_id in staff_ids if staff_id is not None})
    if not ids:
        return {}
    users = db.exec(select(StaffUser).where(col(StaffUser.id).in_(ids))).all()
    return {user.id: user.display_name or user.username for user in users if user.id is not None}


def advice_heading(advice_id: str | None) -> str | None:
    if advice_id is None:
        return None
    try:
        return bundled_catalogue().card(advice_id).heading
    except KeyError:
        return None
