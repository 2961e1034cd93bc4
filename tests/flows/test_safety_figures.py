"""The safety net's figures on every labelled message the project has (4,115 today, several authors working
apart, plus six blind sets after their first runs): a ratchet, so no change makes them worse. The issue's
targets (red caught 100%, red direct 90%, amber 95%, green 95% / 85%, parsers 95%) are judged on blind sets;
docs/clinical-safety/safety-net.md records the figures and the first runs. Raise a floor when a figure rises.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.flows.safety_figures import figures, load

CORPUS = Path(__file__).parent / "corpus"
# The blind sets as their authors wrote them, before their first runs (recorded in safety-net.md).
BLIND = {
    "set-A-2026-12-02.jsonl": "9c773d981066c978b3ec6956d634d74b952dfe5ec7c9632337fc92ff6adb626e",
    "set-B-2026-12-02.jsonl": "378eaa2b60e4e64d0f5382eeffe12658d4b2bbaaa36c6d29ff831349c6b8171c",
    "set-C-2026-12-02.jsonl": "8e2f414dc51e6b9db9bdb973c27704f5c3e9106e18bf2e4744272f0c082e6cd2",
    "set-D-2026-12-02.jsonl": "58e934e208d29c558d33eaff8e2849bdca2df981c482ce5ce69df6e40402c832",
    "set-E-2026-12-02.jsonl": "f9797d8e4f4e2026a7c2f6026b11ac191532f1046c01b43b0c74159ea930df4f",
    "set-F-2026-12-02.jsonl": "fbdd1987a74b79e71654152bb2f96758c48e08bf68907e9a04426a0c2b8772c0",
    "set-G-2026-12-02.jsonl": "44d8b3467e12cf696d50801d9adf9df056c98904721de8b346850cc9c3a09198",
    "set-H-2026-12-02.jsonl": "2f85a80c6dfa752a0f0b60666b01d6cc499457b44865ab721caaa7272ceceb4c",
    "set-I-2026-12-02.jsonl": "0ca88b14e5114b30fc430e75a36e5d095d6113c25520ac0d3d07d5a92b72f666",
    "set-J-2026-12-02.jsonl": "3aa5269aae4748074c1faad9ecb9362ded8d1dfe1d1d9b2d6862670140928fd1",
}


def test_the_blind_sets_are_kept_as_written() -> None:
    for name, digest in BLIND.items():
        assert hashlib.sha256((CORPUS / "blind" / name).read_bytes()).hexdigest() == digest, name


def test_the_corpus_is_large_and_written_by_several_authors() -> None:
    rows = load(sorted(CORPUS.rglob("*.jsonl")))
    assert len(rows) >= 1500
    assert len(list((CORPUS / "authors").glob("*.jsonl"))) >= 4


def test_the_figures_on_every_labelled_message_never_fall() -> None:
    result = figures(load(sorted(CORPUS.rglob("*.jsonl"))))
    print("\n" + result.table("all labelled messages"))
    red, amber, green = result.counts["red"], result.counts["amber"], result.counts["green"]
    assert result.red_caught / red >= 0.99
    assert result.red_direct / red >= 0.975
    assert result.amber_caught / amber >= 0.98
    assert result.green_quiet / green >= 0.95
    # 0.915 since ask.pain (round 7): 5 more amber caught for 19 more green asked, a trade made on purpose
    assert result.green_unasked / green >= 0.91
    assert result.parsed["pain"][0] / result.parsed["pain"][1] >= 0.97
    assert result.parsed["glucose"][0] / result.parsed["glucose"][1] >= 0.97
