"""Protocol files: validated on load, with the file, the line and what is wrong; resolved and pinned."""

from __future__ import annotations

from importlib.resources import files

import pytest

from flows.advice import bundled_catalogue, check_placeholders
from flows.catalogue import ResolvedProtocol, bundled_protocols, load_protocol
from flows.levels import Level
from flows.yamlsource import DataError

SIJ_TEXT = (files("flows") / "data" / "protocols" / "sacroiliac-joint-injection.yaml").read_text(
    encoding="utf-8"
)


def test_the_five_procedures_are_bundled() -> None:
    assert set(bundled_protocols()) == {
        "sacroiliac-joint-injection",
        "facet-joint-injection",
        "epidural-steroid-injection",
        "medial-branch-block",
        "radiofrequency-denervation",
    }


def test_every_protocol_asks_the_red_flag_screen_at_every_contact_from_day_1_to_week_4(
    protocols: dict[str, ResolvedProtocol],
) -> None:
    for protocol in protocols.values():
        for checkin in protocol.checkins:
            if 1 <= checkin.day <= 28 and any(q.startswith("pain.now") for q in checkin.questions):
                assert {"rf.ces", "rf.leg_weakness", "rf.fever"} <= set(checkin.questions), (
                    protocol.id,
                    checkin.id,
                )


def test_epidural_adds_the_day0_bladder_and_positional_headache_questions(
    protocols: dict[str, ResolvedProtocol],
) -> None:
    epidural = protocols["epidural-steroid-injection"]
    assert "epidural.passed_urine" in epidural.checkin("day0.evening").questions
    headache_days = {c.day for c in epidural.checkins if "epidural.headache" in c.questions}
    assert headache_days == {1, 2, 3, 5, 7}
    assert "epidural.headache" not in protocols["sacroiliac-joint-injection"].questions


def test_mbb_has_an_hourly_day0_diary_with_relief(protocols: dict[str, ResolvedProtocol]) -> None:
    mbb = protocols["medial-branch-block"]
    diary = [c for c in mbb.checkins if c.day == 0]
    assert len(diary) >= 4
    assert all("mbb.relief" in c.questions for c in diary)
    assert not mbb.steroid


def test_rfd_moves_the_no_benefit_read_out_to_week_4(protocols: dict[str, ResolvedProtocol]) -> None:
    rfd = protocols["radiofrequency-denervation"]
    compared = rfd.question("rfd.pain.compared")
    no_benefit = [o for o in compared.outcomes if o.advice == "green.no_benefit_review"]
    assert no_benefit
    assert no_benefit[0].when.from_day == 28


def test_every_protocol_records_its_sign_off_points(protocols: dict[str, ResolvedProtocol]) -> None:
    for protocol in protocols.values():
        assert protocol.signoff, protocol.id


def test_the_digest_pins_the_resolved_protocol(sij: ResolvedProtocol) -> None:
    again = load_protocol(SIJ_TEXT, source="sij.yaml")
    assert again.digest() == sij.digest()
    changed = load_protocol(SIJ_TEXT.replace('at: "18:00"', 'at: "18:30"', 1), source="sij.yaml")
    assert changed.digest() != sij.digest()
    assert ResolvedProtocol.model_validate_json(sij.model_dump_json()).digest() == sij.digest()


def test_advice_cards_use_only_known_placeholders() -> None:
    assert check_placeholders(bundled_catalogue()) == []


def test_outcome_levels_match_their_rule_names_and_advice(protocols: dict[str, ResolvedProtocol]) -> None:
    cards = bundled_catalogue()
    for protocol in protocols.values():
        for question in protocol.questions.values():
            for outcome in [*question.outcomes, *([question.otherwise] if question.otherwise else [])]:
                assert outcome.rule.split(".")[0] == outcome.level.value
                if outcome.advice:
                    assert cards.card(outcome.advice).level is outcome.level
                if outcome.level is Level.RED and outcome.advice:
                    assert outcome.raises_escalation


@pytest.mark.parametrize(
    ("change", "line", "message"),
    [
        (("questions: [glucose]", "questions: [glucoze]"), None, "unknown question 'glucoze'"),
        (("education: [edu.flare]", "education: [edu.flair]"), None, "unknown education message 'edu.flair'"),
        (("version: 1", "version: 0"), 5, "greater than or equal to 1"),
        (('    at: "10:00"', '    at: "25:00"'), None, "should match pattern"),
        (("- id: day7\n", "- id: day3.morning\n"), None, "used twice"),
        (("    after_hours: 5\n", '    after_hours: 5\n    at: "19:00"\n'), None, "exactly one of"),
        (("id: sacroiliac-joint-injection", "id: Sacroiliac Joint"), 4, "should match pattern"),
        (("checkins:", "check_ins:"), None, "Extra inputs are not permitted"),
    ],
)
def test_a_bad_protocol_fails_naming_the_file_line_and_problem(
    change: tuple[str, str], line: int | None, message: str
) -> None:
    assert change[0] in SIJ_TEXT
    with pytest.raises(DataError) as caught:
        load_protocol(SIJ_TEXT.replace(*change, 1), source="broken.yaml")
    text = str(caught.value)
    assert message in text
    assert "broken.yaml:" in text
    if line is not None:
        assert f"broken.yaml:{line}:" in text
    assert all(p.line for p in caught.value.problems)


def test_a_dangling_question_points_at_its_own_line() -> None:
    broken = SIJ_TEXT.replace("questions: [glucose]", "questions: [glucoze]", 1)
    with pytest.raises(DataError) as caught:
        load_protocol(broken, source="broken.yaml")
    line = caught.value.problems[0].line
    assert line is not None
    assert "glucoze" in broken.splitlines()[line - 1]


def test_yaml_syntax_errors_name_the_line() -> None:
    with pytest.raises(DataError, match=r"broken.yaml:\d+: not valid YAML"):
        load_protocol(SIJ_TEXT + "\n  - : [\n", source="broken.yaml")


def test_a_protocol_cannot_redefine_a_bank_question() -> None:
    text = SIJ_TEXT.replace(
        "checkins:", "questions:\n  - id: glucose\n    kind: free_text\n    text: Hello there\ncheckins:", 1
    )
    with pytest.raises(DataError, match="already in the question bank"):
        load_protocol(text, source="broken.yaml")


def test_a_follow_up_that_does_not_exist_is_refused() -> None:
    text = SIJ_TEXT.replace(
        "checkins:",
        "questions:\n  - id: own.q\n    kind: yes_no\n    text: Anything?\n"
        "    outcomes:\n      - when: {equals: true}\n        level: green\n"
        "        rule: green.own\n        then: [nowhere]\n"
        "checkins:",
        1,
    )
    with pytest.raises(DataError, match="unknown follow-up question 'nowhere'"):
        load_protocol(text, source="broken.yaml")


def test_advice_level_must_match_the_outcome_level() -> None:
    text = SIJ_TEXT.replace(
        "checkins:",
        "questions:\n  - id: own.q\n    kind: yes_no\n    text: Anything?\n"
        "    outcomes:\n      - when: {equals: true}\n        level: green\n"
        "        rule: green.own\n        advice: red.ces\n"
        "checkins:",
        1,
    )
    with pytest.raises(DataError, match=r"advice 'red\.ces' is red but the outcome is green"):
        load_protocol(text, source="broken.yaml")
