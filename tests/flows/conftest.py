"""Fixtures for the pure core: the demo clinic and the bundled protocols."""

from __future__ import annotations

from importlib.resources import files

import pytest

from flows.catalogue import ResolvedProtocol, bundled_protocols
from flows.clinic import Clinic, load_clinic


@pytest.fixture(scope="session")
def clinic() -> Clinic:
    text = (files("flows") / "data" / "clinics" / "uhp-pain-clinic.yaml").read_text(encoding="utf-8")
    return load_clinic(text, source="uhp-pain-clinic.yaml")


@pytest.fixture(scope="session")
def protocols() -> dict[str, ResolvedProtocol]:
    return bundled_protocols()


@pytest.fixture(scope="session")
def sij(protocols: dict[str, ResolvedProtocol]) -> ResolvedProtocol:
    return protocols["sacroiliac-joint-injection"]
