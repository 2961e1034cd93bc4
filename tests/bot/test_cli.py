"""The `aftercare` command line, as a clinic's engineer or safety officer would use it."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from flows.catalogue import bundled_protocols

SIJ = Path(__file__).parents[2] / "flows" / "data" / "protocols" / "sacroiliac-joint-injection.yaml"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the checkout; the SQLite file goes under tmp_path/var
    for name in ("DATABASE_URL", "TELEGRAM_BOT_TOKEN", "CLINIC_FILE", "BOT_USERNAME", "ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_protocols_check_validates_every_bundled_protocol(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "protocols", "check")
    assert code == 0
    assert out.count("ok  ") == len(bundled_protocols())


def test_protocols_check_names_the_file_line_and_problem(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(SIJ.read_text().replace("questions: [glucose]", "questions: [glucoze]", 1))
    code, _, err = run(capsys, "protocols", "check", str(broken), str(SIJ))
    assert code == 1
    assert f"{broken}:" in err and "unknown question 'glucoze'" in err


def test_protocols_show_prints_the_schedule_in_clinic_time_across_a_clock_change(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(
        capsys, "protocols", "show", "sacroiliac-joint-injection", "--performed-at", "2026-03-27T14:30"
    )
    assert code == 0
    assert "Sat 28 Mar 2026 10:00 GMT  day1.morning" in out
    assert "Sun 29 Mar 2026 10:00 BST  day2.morning" in out
    assert "ask:  rf.ces" in out


def test_unknown_protocol_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "protocols", "show", "knee-replacement", "--performed-at", "2026-03-27T14:30")
    assert code == 2 and "unknown protocol" in err


@pytest.mark.parametrize(
    ("question", "text", "level", "value"),
    [
        ("free-text", "I can't feel my bum when I wipe", "red", None),
        ("free-text", "no fever, feeling fine", "green", None),
        ("pain", "about a 6", "green", 6),
        ("pain", "9/10", "green", 9),  # a high score alone: the follow-up asks about painkillers,
        ("glucose", "HI", "red", 33.3),
        ("glucose", "12,4", "green", 12.4),
        ("temperature", "101F", "red", 38.3),  # fever is red (reference (d) 6)
        ("yes-no", "nope", "green", False),
    ],
)
def test_triage_jsonl_reports_level_rules_and_value(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    question: str,
    text: str,
    level: str,
    value: object,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps({"text": text}) + "\n"))
    code, out, _ = run(capsys, "triage", "--question", question, "--jsonl")
    assert code == 0
    verdict = json.loads(out)
    assert verdict["level"] == level
    assert verdict["value"] == value
    assert isinstance(verdict["rules"], list)
    if level != "green":
        assert verdict["rules"]


def test_triage_jsonl_one_line_out_per_line_in(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [json.dumps({"text": t}) for t in ("fine thanks", "temp 37.6 tonight", "legs gone weak")]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    code, out, _ = run(capsys, "triage", "--jsonl")
    assert code == 0
    verdicts = [json.loads(line) for line in out.splitlines()]
    assert [v["level"] for v in verdicts[:2]] == ["green", "green"]
    assert verdicts[2]["level"] in ("amber", "red")
    # Under 38.0 is not a fever, but the bot asks about one rather than reassure.
    assert [v["asks"] for v in verdicts] == [[], ["rf.fever"], []]


def test_triage_unreadable_answer_says_why_and_keeps_red_flags(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "triage", "--question", "pain", "dunno, both legs have gone numb")
    assert code == 0
    assert out.startswith("RED")
    assert "Go to A&E now." in out


def test_triage_rejects_bad_jsonl(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("not json\n"))
    code, _, err = run(capsys, "triage", "--jsonl")
    assert code == 2 and "line 1" in err


def test_enrol_prints_a_single_use_invite_and_escalations_lists_none(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(
        capsys,
        "enrol",
        "--name",
        "Sam",
        "--procedure",
        "epidural-steroid-injection",
        "--performed-at",
        "2026-11-23T10:30",
        "--diabetic",
        "--json",
    )
    assert code == 0
    enrolment = json.loads(out)
    token = enrolment["invite"]["token"]
    assert enrolment["invite"]["link"] == f"https://t.me/AftercareLocalBot?start={token}"
    assert 20 <= len(token) <= 64 and all(c.isalnum() or c in "-_" for c in token)
    assert enrolment["reference"].startswith("AC-")
    assert any(c["key"] == "day1.evening" for c in enrolment["checkins"])  # diabetic: evening glucose
    code, out, _ = run(capsys, "escalations", "--open", "--json")
    assert code == 0 and json.loads(out) == []
    code, out, _ = run(capsys, "db", "upgrade")
    assert code == 0 and "revision" in out


def test_enrol_refuses_an_unknown_procedure(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys, "enrol", "--name", "Sam", "--procedure", "hip", "--performed-at", "2026-11-23T10:30"
    )
    assert code == 2 and "unknown procedure" in err


def test_a_bad_clinic_file_stops_the_cli_with_its_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text("id: x\nname: Bad\n")
    monkeypatch.setenv("CLINIC_FILE", str(clinic))
    code, _, err = run(capsys, "protocols", "list")
    assert code == 2 and str(clinic) in err


def test_triage_into_head_exits_quietly(tmp_path: Path) -> None:
    """`aftercare triage --jsonl < many | head -1`: the reader goes away; no traceback, exit 0."""
    lines = "".join(json.dumps({"text": f"temp 38.{n % 10}"}) + "\n" for n in range(20_000))
    source = tmp_path / "in.jsonl"
    source.write_text(lines)
    aftercare = Path(sys.executable).with_name("aftercare")
    pipeline = f'{aftercare} triage --jsonl < {source} | head -1; echo "status=${{PIPESTATUS[0]}}"'
    done = subprocess.run(
        ["/bin/bash", "-c", pipeline], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.stdout.splitlines()[0].startswith('{"level": "red"')
    assert "status=0" in done.stdout
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
