"""Answers as patients type them: each parser reads what it safely can and refuses the rest with a reason.

Tables first (one per parser: readings, then refusals), then properties that must hold for any text.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.parsers import (
    PROBLEMS,
    GlucoseReading,
    Parsed,
    TemperatureReading,
    parse_choice,
    parse_glucose,
    parse_pain,
    parse_percent,
    parse_pgic,
    parse_temperature,
    parse_yes_no,
)

# ------------------------------------------------------------------------------------------------ pain


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("7", 7),
        ("seven", 7),
        ("Seven.", 7),
        ("7/10", 7),
        ("7 /10", 7),
        ("7 out of 10", 7),
        ("eight out of ten", 8),
        ("about a 6", 6),
        ("6ish", 6),
        ("my pain is a 4 today thanks", 4),
        ("10/10", 10),
        ("10 agony!!!", 10),
        ("0", 0),
        ("0/10", 0),
        # a range takes the higher end
        ("6-7", 7),
        ("6 - 7", 7),
        ("6–7", 7),  # en dash from autocorrect
        ("6 to 7", 7),
        ("6 or 7", 7),
        ("a 6 or a 7", 7),
        ("a 7 or an 8", 8),
        ("between 6 and 7", 7),
        ("6-7/10", 7),
        # half points, and any fraction, round up
        ("6.5", 7),
        ("6,5", 7),
        ("6 and a half", 7),
        ("six and a half", 7),
        ("6½", 7),
        ("6 ½", 7),
        ("seven point five", 8),
        ("6.2", 7),
        # no pain
        ("no pain", 0),
        ("No pain at all", 0),
        ("none", 0),
        ("zero", 0),
        ("nil", 0),
        ("pain free", 0),
        ("pain's gone", 0),
        ("no pain at the moment thanks", 0),
        # typos for number words
        ("sevn", 7),
        ("fiv", 5),
        ("eigth", 8),
        # chatter and emoji around the number
        ("8 😭😭", 8),
        ("7️⃣", 7),
        ("🔟", 10),
        ("７", 7),  # full-width digit
        ("  7\u00a0 ", 7),  # non-breaking space
        ("pain 7 at 3pm", 7),
        ("pain is 8 for 2 days", 8),
        ("7 took 500mg paracetamol", 7),
        ("under 5", 5),  # the true score is at most 5: 5 is the safe reading
        ("ten out of ten", 10),
        ("a seven", 7),
        ("7/10, bad day", 7),
        # hedged: the higher number
        ("about a seven, maybe eight", 8),
        ("7 or 8", 8),
        ("7, maybe 8", 8),
        ("8 maybe 7", 8),
        ("a 6, possibly a 7", 7),
        # "N+" is the patient's own number
        ("8+", 8),
        ("10+", 10),
        ("7 plus", 7),
        # the scale's ends are not the answer
        ("on a scale of 1-10 I'd say 6", 6),
        ("on a scale of 0 to 10 it's a 4", 4),
        ("out of 10 its a 6", 6),
        ("1-10, 6", 6),
        # a comparison: the score now, or after
        ("from a 9 to a 3", 3),
        ("was 8 now 5", 5),
        ("I'm 74 and feel every year of it, but the back is a 3 today", 3),  # an age is not a score (set H)
        ("down to a 4 from 7", 4),
        ("went from 8 to 4", 4),
        ("9 down to 3", 3),
        ("8 -> 5", 5),
        ("5 now, was 8", 5),
        ("7 but was 9 yesterday", 7),
        ("8 yesterday, 5 today", 5),
        ("yesterday 8 today 5", 5),
        ("8 yesterday 5 today", 5),
        ("it was 9 before the injection now its 3", 3),
        ("was 8 this morning, now 6", 6),
        # several things scored, one of them pain
        ("sleep 3, pain 7, mood 5", 7),
        ("7 pain 3 sleep", 7),
        ("back pain 6, stiffness 8", 6),
        # times, dates and durations are not scores
        ("7 for 3 days", 7),
        ("6 at 9", 6),
        ("pain at 6 since 9", 6),
        ("it's at 7", 7),
        ("at a 7", 7),
        ("day 2, pain 5", 5),
        ("5 since 3 March", 5),
        ("been 6 since the 3rd", 6),
        # "nothing" said of something else is not a score of 0
        ("Ten. Tablets doing nothing. Worse than before I had it done", 10),
        ("nine. been nine for 16 days, nothing helps", 9),
        ("10. tablets nothing help", 10),
        ("3 sat down. nothing else to report", 3),
        # asides that leave "no pain" the whole answer
        ("no pain at all touch wood", 0),
        ("None at all today, first time in years", 0),
        # spelled with "ish", said with "a", dictated
        ("fiveish", 5),
        ("somewhere between a 2 and a 3", 3),
        ("about for out of ten full stop", 4),
        ("it's about a for today", 4),
        ("about to out of ten today", 2),
        ("ate out of ten", 8),
        ("its ate out of ten", 8),
        ("sex out of ten", 6),
        ("5? Maybe 6", 6),  # a hedge after a question mark
        ("My husband says about a 5. He's not one for phones.", 5),  # "one" as a pronoun
        # places and activities: the highest
        ("Sitting it's a 2, walking more like a 5", 5),
        ("3 in the back, 6 down the leg", 6),
        ("back 7, leg 5", 7),
        # a time word outranks the order of a change
        ("5 out of 10 now but it went up to 9 in the night", 5),
        ("4/10 today, better than yesterdays 6", 4),
        # half of the earlier score, rounded up
        ("about half what it was. it was an 8 before", 4),
        ("pain is half from before, before was 8", 4),
        ("half what it was, it was a 7", 4),
        ("half what it was, a 4", 4),  # not said as past: read as it stands
        # a body temperature is not a second score
        ("4/10 today but I've got a temperature of 38.2 as well", 4),
        ("3 but my temp is 38.3", 3),
        ("6 but I have temperature 38,2", 6),
        ("7, 101F", 7),
    ],
)
def test_pain_reads_a_whole_number_from_0_to_10(text: str, score: int) -> None:
    assert parse_pain(text) == Parsed(value=score)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("11", "pain.out_of_range"),
        ("-1", "pain.out_of_range"),
        ("minus 2", "pain.out_of_range"),
        ("70", "pain.out_of_range"),
        ("10.5", "pain.out_of_range"),
        # several scores, and nothing says which is now: never guessed between
        ("7 and 9", "pain.several_numbers"),
        ("6 now but 9 when I walk", "pain.several_numbers"),  # the 9 is not over
        ("6 now, 9 in my leg", "pain.several_numbers"),  # a place for one, "now" for the other
        ("sleep 3, 7", "pain.several_numbers"),  # is the 7 pain?
        ("was 9 before, was 7 yesterday", "pain.several_numbers"),  # nothing for now
        ("8 then 5", "pain.several_numbers"),
        ("5/5", "pain.several_numbers"),  # a different scale
        ("3/5", "pain.several_numbers"),
        ("12/03/2024", "pain.several_numbers"),
        ("7.5.3", "pain.several_numbers"),
        ("terrible", "pain.no_number"),
        ("agony", "pain.no_number"),
        ("bad", "pain.no_number"),
        ("no pain relief", "pain.no_number"),  # not "no pain"
        # "no pain" or "none" that is not the whole answer is never read as 0
        ("no pain resting but 6 walking", "pain.no_number"),
        ("no pain sitting but agony walking", "pain.no_number"),
        ("nothing helps", "pain.no_number"),
        ("nothing, but 6 when I walk", "pain.no_number"),  # "nothing" as the answer, and a 6
        ("about for today", "pain.no_number"),  # "for" is a number only where nothing else fits
        ("waiting for out patients", "pain.no_number"),
        ("none of my tablets work", "pain.no_number"),
        ("fine", "pain.no_number"),  # "fine" is one slip from "five": never read as 5
        ("over 7", "pain.not_exact"),
        ("more than 8", "pain.not_exact"),
        ("7 or more", "pain.not_exact"),
        ("70%", "pain.looks_like_percent"),
        ("7:30", "pain.looks_like_time"),
        ("7.30", "pain.looks_like_time"),
        ("at 8pm", "pain.looks_like_time"),
        ("at 9", "pain.looks_like_time"),  # an hour, not "it's at 9"
        ("woke at 6 in agony", "pain.looks_like_time"),
        ("for 3 days", "pain.no_number"),
        ("", "answer.empty"),
        ("  ...  ", "answer.empty"),
    ],
)
def test_pain_refuses_what_it_cannot_read_safely(text: str, problem: str) -> None:
    assert parse_pain(text) == Parsed(value=None, problem=problem)


# --------------------------------------------------------------------------------------------- glucose


def _mmol(value: float) -> GlucoseReading:
    return GlucoseReading(mmol_per_l=value)


def _mg(value: float) -> GlucoseReading:
    return GlucoseReading(mmol_per_l=value, from_mg_per_dl=True)


HI = GlucoseReading(mmol_per_l=33.3, beyond_meter="high")
LO = GlucoseReading(mmol_per_l=1.1, beyond_meter="low")


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("12.4", _mmol(12.4)),
        ("12,4", _mmol(12.4)),
        ("12.4 mmol", _mmol(12.4)),
        ("12.4 mmol/L", _mmol(12.4)),
        ("12.4mmol/l", _mmol(12.4)),
        ("12.45 mmol", _mmol(12.5)),  # one decimal place, half up
        ("7", _mmol(7.0)),
        ("twelve point four", _mmol(12.4)),
        ("33.3", _mmol(33.3)),
        ("1.0", _mmol(1.0)),
        ("216 mg/dl", _mg(12.0)),
        ("216mg/dL", _mg(12.0)),
        ("90 mg", _mg(5.0)),
        ("8-10", _mmol(10.0)),  # a range takes the higher end
        ("8 to 10 mmol", _mmol(10.0)),
        ("8 at 8pm", _mmol(8.0)),  # the time is not the reading
        ("9.1 at 7:30", _mmol(9.1)),
        ("Hi, 8.2", _mmol(8.2)),  # a greeting, then the reading
        ("hi there its 6.1", _mmol(6.1)),
        ("HI ITS 8.2", _mmol(8.2)),  # all capitals: "HI" is just a greeting
        ("type 1, sugar 14", _mmol(14.0)),
        ("14 ketones 0.4", _mmol(14.0)),
        ("bit high today 13.2", _mmol(13.2)),
        ("HI", HI),
        ("it says HI", HI),
        ("meter says hi", HI),
        ("IT SAYS HI", HI),
        ("reads high", HI),
        ("the meter is showing hi", HI),
        ("too high to read", HI),
        ("LO", LO),
        ("Meter reads LO", LO),
        ("it says low", LO),
        # just over N is above N: the lowest reading above it; just under N, the highest below it
        ("just over 12", _mmol(12.1)),
        ("a bit over 12", _mmol(12.1)),
        ("slightly above 15", _mmol(15.1)),
        ("just over 12 mmol", _mmol(12.1)),
        ("just under 4", _mmol(3.9)),
        ("a little below 3", _mmol(2.9)),
        # counts, hours and error codes beside the reading are not it
        ("had 2 biscuits, 5.6 now", _mmol(5.6)),
        ("12.4 checked at 9", _mmol(12.4)),
        ("7.2 on 3 march", _mmol(7.2)),
        ("week 2, 7.2", _mmol(7.2)),
        ("E-4 then 7.2 on the second go", _mmol(7.2)),  # a second try after the error
        ("Did it at 7.30, 8.4", _mmol(8.4)),  # "at 7.30" is a time
        ("did it at 9, 8.4", _mmol(8.4)),
        ("Dad's was 10.2 at half 8", _mmol(10.2)),  # "at half 8" is half past eight (blind set G)
        ("he's 84 and his sugar was 9.1", _mmol(9.1)),  # an age is not a reading
        # dictated, spaced, said twice
        ("for point eight", _mmol(4.8)),
        ("3 . 6", _mmol(3.6)),
        ("is 8 something, 8,3", _mmol(8.3)),
        ("ah think it wis 21 somethin. aye 21.4", _mmol(21.4)),
    ],
)
def test_glucose_reads_mmol_per_litre(text: str, reading: GlucoseReading) -> None:
    assert parse_glucose(text) == Parsed(value=reading)


@pytest.mark.parametrize(
    ("text", "mmol"),
    [("36", 2.0), ("180", 10.0), ("216", 12.0), ("600", 33.3), ("150-200", 11.1)],
)
def test_glucose_without_units_above_35_is_mg_per_dl_to_be_confirmed(text: str, mmol: float) -> None:
    parsed = parse_glucose(text)
    assert parsed == Parsed(value=_mg(mmol), needs_confirmation=True)
    assert not parsed.ok


def test_glucose_just_over_a_mg_per_dl_number_is_a_tenth_above_it_in_mmol() -> None:
    assert parse_glucose("just over 180") == Parsed(value=_mg(10.1), needs_confirmation=True)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("34", "glucose.unclear_units"),  # 33.4-35 without a unit: could be either
        ("35", "glucose.unclear_units"),
        ("40.5", "glucose.unclear_units"),  # mg/dL meters show whole numbers
        ("8-40", "glucose.unclear_units"),
        ("mmol 7.2 and 130 mg", "glucose.unclear_units"),
        ("0.5", "glucose.out_of_range"),
        ("0", "glucose.out_of_range"),
        ("-3", "glucose.out_of_range"),
        ("40 mmol", "glucose.out_of_range"),
        ("700", "glucose.out_of_range"),
        ("12 mg/dl", "glucose.out_of_range"),
        ("7:30", "glucose.looks_like_time"),
        ("at 8pm", "glucose.looks_like_time"),
        ("8am", "glucose.looks_like_time"),
        ("7.30", "glucose.looks_like_time"),
        ("hba1c 48", "glucose.looks_like_hba1c"),
        ("a1c 7%", "glucose.looks_like_hba1c"),
        ("HbA1c was 53 mmol/mol", "glucose.looks_like_hba1c"),
        ("10 units", "glucose.looks_like_insulin"),
        ("took 8u of novorapid", "glucose.looks_like_insulin"),
        ("12 then took novorapid", "glucose.looks_like_insulin"),
        ("ketones 0.4", "glucose.looks_like_ketones"),
        ("0.6 ketones", "glucose.looks_like_ketones"),
        ("12%", "glucose.looks_like_percent"),
        ("3.5 before tea and 9 at bedtime", "glucose.several_numbers"),  # a hypo among several: ask which
        ("3-5", "glucose.unclear_range"),  # its higher end would hide a hypo
        ("over 20", "glucose.not_exact"),
        ("under 4", "glucose.not_exact"),
        ("just over 8-10", "glucose.not_exact"),
        ("just over 12, maybe under 14", "glucose.not_exact"),
        # the meter's error codes
        ("E-4", "glucose.meter_error"),
        ("meter says E-4, new strips coming tomorrow", "glucose.meter_error"),  # not 4.0
        ("Err 3", "glucose.meter_error"),
        ("E3", "glucose.meter_error"),
        ("error", "glucose.meter_error"),
        ("meter says error 5", "glucose.meter_error"),
        # a number that counts something else
        ("I had 1 biscuit and feel fine", "glucose.no_number"),  # not a hypo of 1.0
        ("I had one biscuit and feel fine", "glucose.no_number"),
        ("2 slices of toast", "glucose.no_number"),
        ("ate 3 jelly babies", "glucose.no_number"),
        ("took 2 tablets", "glucose.no_number"),
        ("took 2 metformin this morning", "glucose.no_number"),
        ("checked it 3 times", "glucose.no_number"),
        ("not checked yet, will do at 9", "glucose.not_checked"),  # not 9.0
        ("strips ran out, chemist getting more in tomorrow", "glucose.not_checked"),
        # blind set H: "one" after "done" is a test, not a reading of 1.0 (a hypo)
        ("Not done one today. My HbA1c was 58 at the GP last month", "glucose.looks_like_hba1c"),
        ("Not checked yet, will do it at 9", "glucose.not_checked"),
        ("12.4 and 250", "glucose.several_numbers"),  # mmol/L and mg/dL to confirm: which?
        ("was at 3.45 and now 8.4", "glucose.several_numbers"),  # "was at": a level, maybe a hypo
        ("at 9", "glucose.looks_like_time"),
        ("hi", "glucose.meter_word_unclear"),  # a greeting, or the meter?
        ("Hi", "glucose.meter_word_unclear"),  # phones capitalise the first letter
        ("high", "glucose.meter_word_unclear"),
        ("it's high", "glucose.meter_word_unclear"),
        ("low", "glucose.meter_word_unclear"),
        ("HI 8.2", "glucose.meter_word_and_number"),
        ("meter says LO, 2.1 now", "glucose.meter_word_and_number"),
        ("didn't check", "glucose.not_checked"),
        ("forgot", "glucose.not_checked"),
        ("fine", "glucose.no_number"),
        ("normal", "glucose.no_number"),
        ("", "answer.empty"),
    ],
)
def test_glucose_refuses_what_is_not_a_meter_reading(text: str, problem: str) -> None:
    assert parse_glucose(text) == Parsed(value=None, problem=problem)


# ----------------------------------------------------------------------------------------- temperature


@pytest.mark.parametrize(
    ("text", "celsius", "feverish"),
    [
        ("38.2", 38.2, False),
        ("38,2", 38.2, False),
        ("38.2C", 38.2, False),
        ("38.2 °C", 38.2, False),
        ("37℃", 37.0, False),
        ("37", 37.0, False),
        ("101F", 38.3, False),
        ("101", 38.3, False),  # above 45 without a unit: Fahrenheit
        ("101 degrees", 38.3, False),
        ("98.6", 37.0, False),
        ("99-101", 38.3, False),
        ("37.5-38", 38.0, False),  # a range takes the higher end
        ("38.5 at 8pm", 38.5, False),
        ("temperature of 37.2", 37.2, False),
        ("37.6 and shivery", 37.6, True),  # a number and a feeling: both
        ("38.5 high temp", 38.5, True),
        ("36.9 but feel hot", 36.9, True),
        ("hot and shivery", None, True),
        ("feverish", None, True),
        ("shivering", None, True),
        ("burning up", None, True),
        ("got the chills", None, True),
        ("I have a temperature", None, True),
        ("not hot but shivery", None, True),
        ("no thermometer but I feel hot", None, True),
        # the formats patients use
        ("38,6", 38.6, False),
        ("100.4", 38.0, False),
        ("101 f", 38.3, False),
        ("101.2°f", 38.4, False),
        ("39.1°C", 39.1, False),
        ("39.1 C", 39.1, False),
        ("38.5 degrees", 38.5, False),
        ("thirty eight point four", 38.4, False),
        ("thirty-eight", 38.0, False),
        ("38 point 2", 38.2, False),
        ("a hundred and one", 38.3, False),
        ("ear thermometer says 38.2", 38.2, False),
        ("forehead thermometer 37.9", 37.9, False),
        ("37.5 with the ear one", 37.5, False),  # "one" is the thermometer
        ("38.2 at 9", 38.2, False),
        ("38.2 after paracetamol", 38.2, False),  # as read: grading is not the parser's job
        # feeling feverish, whatever the number says
        ("37.2 and shivering", 37.2, True),
        ("37.2 shaking", 37.2, True),
        ("shaking", None, True),
        ("shivers", None, True),
        ("rigors", None, True),
        ("sweats", None, True),
        ("chills", None, True),
        ("the shakes", None, True),
        ("feel freezing", None, True),
        ("im boiling", None, True),
    ],
)
def test_temperature_reads_celsius_and_feeling_feverish(
    text: str, celsius: float | None, feverish: bool
) -> None:
    assert parse_temperature(text) == Parsed(
        value=TemperatureReading(celsius=celsius, feels_feverish=feverish)
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("no thermometer", "temperature.no_reading"),
        ("didn't check", "temperature.no_reading"),
        ("don't know", "temperature.no_reading"),
        ("no fever", "temperature.no_reading"),  # said, not measured: ask how they feel
        ("not hot or shivery", "temperature.no_reading"),
        ("hot flushes", "temperature.no_number"),  # a steroid side effect, not a fever word
        ("normal", "temperature.no_number"),
        ("50", "temperature.out_of_range"),
        ("33", "temperature.out_of_range"),
        ("44C", "temperature.out_of_range"),
        ("38F", "temperature.out_of_range"),
        ("120", "temperature.out_of_range"),
        ("-5", "temperature.out_of_range"),
        ("37 this morning 38 now", "temperature.several_numbers"),
        ("38.4 before paracetamol, 37.5 now", "temperature.several_numbers"),  # never the lower one
        ("not shaking", "temperature.no_reading"),
        ("boiling the kettle", "temperature.no_number"),
        ("at 9", "temperature.looks_like_time"),
        ("over 38", "temperature.not_exact"),
        ("10.30", "temperature.looks_like_time"),
        ("", "answer.empty"),
    ],
)
def test_temperature_refuses_what_it_cannot_read(text: str, problem: str) -> None:
    assert parse_temperature(text) == Parsed(value=None, problem=problem)


# -------------------------------------------------------------------------------------------- yes / no

YES = [
    "yes", "y", "Y", "yeah", "yep", "yup", "aye", "ok", "OK thanks", "correct", "i have", "👍", "👍🏻", "✅",
    "✔️", "Yes.", "YES!!!", "yes I have been", "yes please", "of course", "yess",
    # a clear yes, however mild (see flows/parsers/yes_no.py)
    "yes a little", "yes my lips are a bit swollen", "yes sometimes", "yeah on and off",
]  # fmt: skip
NO = [
    "no", "n", "No.", "nope", "nah", "none", "nothing", "never", "no i haven't", "No I havent",
    "👎", "❌", "no not at all thanks", "not at all", "definitely not", "no, I'm fine", "not a bit",
    "i have not", "not yet", "nae", "no problems", "none of them", "nothing at all", "Never.",
    "nope, all good here", "no new pain since the injection",
    "No. Everything is fine so far, thank you doctor", "no thanks", "no all good", "none of those",
]  # fmt: skip
UNSURE = [
    "yes and no", "not sure", "Not sure 🤷", "maybe", "perhaps", "I think so", "I don't think so", "sort of",
    "kind of", "don't know", "yes?", "n/a", "hmm", "probably", "yes but no", "👍👎", "no, just a little",
    "I've been fine", "not too bad", "not really", "possibly", "i think so", "yes-ish",
    # how much, not whether: never a clean no (see flows/parsers/yes_no.py)
    "a bit", "a little", "a touch", "slightly", "now and then", "on and off", "sometimes", "ive had a bit",
    # a "no" with more than chatter around it may be describing the very symptom asked about
    "no pain but my legs are numb", "no pain, fever", "I'm not able to pee", "Haven't had a wee all day",
    "no, still a bit sore",
]  # fmt: skip


@pytest.mark.parametrize("text", YES)
def test_yes(text: str) -> None:
    assert parse_yes_no(text) == Parsed(value=True)


@pytest.mark.parametrize("text", NO)
def test_no(text: str) -> None:
    assert parse_yes_no(text) == Parsed(value=False)


@pytest.mark.parametrize("text", UNSURE)
def test_hedged_or_mixed_answers_are_unsure_never_no(text: str) -> None:
    parsed = parse_yes_no(text)
    assert parsed.value is None  # never a no; a "no" with news is read by the engine with the safety net
    assert parsed.problem in ("yes_no.unsure", "yes_no.no_with_news")


@pytest.mark.parametrize(
    ("text", "reading", "earlier"),
    [
        ("14.2, and it was 13.1 at lunch as well", 14.2, (13.1,)),
        ("13.5 at tea and 14.2 now", 14.2, (13.5,)),
        ("250 mg/dl, was 240 at lunch", 13.9, (13.3,)),
        # the latest: marked now, else the last in the day, else the one not said as past
        ("lunch 15.6 now 16.1", 16.1, (15.6,)),
        ("230 this morning and 250 mg/dl just now", 13.9, (12.8,)),
        ("16.4 at lunch and 17.1 at tea", 17.1, (16.4,)),
        ("16.4 this morning and 17 at lunch", 17.0, (16.4,)),
        ("12 yesterday at tea, 9 at lunch", 9.0, (12.0,)),
        ("Mum's was 13.5 at 5 o'clock and 12.8 at bedtime", 12.8, (13.5,)),
        ("last one 250 mg/dl, at lunch 240", 13.9, (13.3,)),  # "one" is not a reading of 1
        ("250 mg/dl, that's the second high one today, it was 230 at lunch", 13.9, (12.8,)),
    ],
)
def test_several_glucose_readings_keep_the_current_one_and_the_earlier_ones(
    text: str, reading: float, earlier: tuple[float, ...]
) -> None:
    parsed = parse_glucose(text)
    assert parsed.value is not None
    assert (parsed.value.mmol_per_l, parsed.value.earlier) == (reading, earlier)


def test_several_glucose_readings_without_units_above_35_are_mg_per_dl_to_be_confirmed() -> None:
    assert parse_glucose("300 at teatime, 280 earlier") == Parsed(
        value=GlucoseReading(mmol_per_l=16.7, from_mg_per_dl=True, earlier=(15.6,)), needs_confirmation=True
    )


@pytest.mark.parametrize(
    "text",
    ["fine", "I'm ok", "yesterday", "my leg", "🙂", "nothing will come out", "never had this before, awful"],
)
def test_replies_that_answer_neither_way_are_asked_again(text: str) -> None:
    assert parse_yes_no(text) == Parsed(value=None, problem="yes_no.no_answer")


# -------------------------------------------------------------------------------------- percent relief


@pytest.mark.parametrize(
    ("text", "percent"),
    [
        ("50", 50),
        ("50%", 50),
        ("50 %", 50),
        ("fifty percent", 50),
        ("50 per cent", 50),
        ("half", 50),
        ("about half", 50),
        ("more than half", 50),  # at least 50: 50 never over-claims
        ("about 30 percent", 30),
        ("about 30% for 6 hours", 30),
        ("three quarters", 75),
        ("a quarter", 25),
        ("50/100", 50),
        ("50/100, good", 50),
        ("0", 0),
        ("no relief", 0),
        ("no pain relief", 0),
        ("none", 0),
        ("none at all", 0),
        ("not at all", 0),
        ("worse", 0),
        ("all of it", 100),
        ("completely", 100),
        ("pain gone", 100),
        ("100%", 100),
        ("all", 100),
        # a range takes the lower end, a fraction rounds down: relief is never over-claimed
        ("30-40%", 30),
        ("30 to 40", 30),
        ("33.3", 33),
    ],
)
def test_percent_relief_reads_0_to_100(text: str, percent: int) -> None:
    assert parse_percent(text) == Parsed(value=percent)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("101", "percent.out_of_range"),
        ("150%", "percent.out_of_range"),
        ("-10", "percent.out_of_range"),
        ("5/10", "percent.looks_like_pain_score"),
        ("3 out of 10", "percent.looks_like_pain_score"),
        ("less than half", "percent.not_exact"),
        ("up to 50%", "percent.not_exact"),
        ("not completely", "percent.not_exact"),
        ("pain gone in my back but leg still bad", "percent.not_exact"),
        ("50% worse", "percent.worse"),
        ("30 then 60", "percent.several_numbers"),
        ("a lot better", "percent.no_number"),
        ("no", "percent.no_number"),
        ("12.30", "percent.looks_like_time"),
        ("", "answer.empty"),
    ],
)
def test_percent_relief_refuses_what_it_cannot_read(text: str, problem: str) -> None:
    assert parse_percent(text) == Parsed(value=None, problem=problem)


# ------------------------------------------------------------------------------------------------ PGIC


@pytest.mark.parametrize(
    ("text", "score"),
    [
        *[(str(n), n) for n in range(1, 8)],
        ("seven", 7),
        ("3 thanks", 3),
        ("very much improved", 1),
        ("much improved", 2),
        ("minimally improved", 3),
        ("no change", 4),
        ("minimally worse", 5),
        ("much worse", 6),
        ("very much worse", 7),
        ("Very much better!", 1),
        ("a lot better", 2),
        ("far better", 2),
        ("a little better", 3),
        ("bit better", 3),
        ("same", 4),
        ("the same", 4),
        ("about the same", 4),
        ("much the same", 4),
        ("no better no worse", 4),
        ("bit worse", 5),
        ("slightly worse", 5),
        ("a lot worse", 6),
        ("2 - much better", 2),  # a number and words that agree
        ("2-3", 3),  # a range takes the less improved end
    ],
)
def test_pgic_reads_1_to_7(text: str, score: int) -> None:
    assert parse_pgic(text) == Parsed(value=score)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("0", "pgic.out_of_range"),
        ("8", "pgic.out_of_range"),
        ("better", "pgic.unclear"),  # 1, 2 or 3?
        ("worse", "pgic.unclear"),
        ("improved", "pgic.unclear"),
        ("not much better", "pgic.unclear"),
        ("no worse", "pgic.unclear"),
        ("2 no change", "pgic.unclear"),
        ("much better but a bit worse today", "pgic.unclear"),
        ("dunno", "pgic.no_answer"),
        ("", "answer.empty"),
    ],
)
def test_pgic_refuses_unclear_answers(text: str, problem: str) -> None:
    assert parse_pgic(text) == Parsed(value=None, problem=problem)


# ---------------------------------------------------------------------------------------------- choice

NUMBNESS = [
    ("none", "No numbness"),
    ("improving", "Yes, getting better"),
    ("same", "Yes, about the same"),
    ("worse", "Yes, getting worse"),
]
FLARE = [
    ("no_flare", "No flare"),
    ("settled", "Yes, it has settled"),
    ("not_settled", "Yes, not settled yet"),
]
SITE = [("fine", "Fine"), ("sore", "Sore or bruised"), ("infected", "Red, hot, swollen or oozing")]
DAYS = [("d1", "1 day"), ("d2", "2 days"), ("w1", "1 week")]


@pytest.mark.parametrize(
    ("text", "options", "picked"),
    [
        ("Yes, getting worse", NUMBNESS, "worse"),
        ("yes getting better!", NUMBNESS, "improving"),
        ("NO NUMBNESS", NUMBNESS, "none"),
        ("worse", NUMBNESS, "worse"),  # an id
        ("not_settled", FLARE, "not_settled"),
        ("2", NUMBNESS, "improving"),  # the second option
        ("option 3", NUMBNESS, "same"),
        ("4️⃣", NUMBNESS, "worse"),
        ("getting worse", NUMBNESS, "worse"),
        ("its getting worse now", NUMBNESS, "worse"),
        ("No", NUMBNESS, "none"),
        ("wrose", NUMBNESS, "worse"),  # one typing slip
        ("it has settled", FLARE, "settled"),
        ("not settled", FLARE, "not_settled"),
        ("not yet", FLARE, "not_settled"),
        ("no", FLARE, "no_flare"),
        ("a bit sore", SITE, "sore"),
        ("swolen", SITE, "infected"),
        ("Oozing a bit", SITE, "infected"),
        ("looks fine", SITE, "fine"),
        ("2 days", DAYS, "d2"),
    ],
)
def test_choice_returns_the_option_id(text: str, options: list[tuple[str, str]], picked: str) -> None:
    assert parse_choice(text, options) == Parsed(value=picked)


@pytest.mark.parametrize(
    ("text", "options", "problem"),
    [
        ("yes", NUMBNESS, "choice.ambiguous"),  # three options start with yes
        ("not getting worse", NUMBNESS, "choice.ambiguous"),  # negated
        ("getting better but worse than yesterday", NUMBNESS, "choice.ambiguous"),
        ("1 getting worse", NUMBNESS, "choice.ambiguous"),  # the number and the words disagree
        ("not red", SITE, "choice.ambiguous"),
        ("it's fine but a bit sore", SITE, "choice.ambiguous"),
        ("hasn't settled", FLARE, "choice.ambiguous"),
        ("5", NUMBNESS, "choice.no_match"),
        ("0", NUMBNESS, "choice.no_match"),
        ("2", DAYS, "choice.ambiguous"),  # the second option, or "2 days"?
        ("purple", NUMBNESS, "choice.no_match"),
        ("some", [("same", "Same"), ("more", "More")], "choice.no_match"),  # too short to call a slip
        ("anything", [], "choice.no_match"),
        ("", NUMBNESS, "answer.empty"),
    ],
)
def test_choice_refuses_no_match_or_more_than_one(
    text: str, options: list[tuple[str, str]], problem: str
) -> None:
    assert parse_choice(text, options) == Parsed(value=None, problem=problem)


# ------------------------------------------------------------------------------------- the result type


def test_ok_means_a_value_that_needs_no_confirmation() -> None:
    assert Parsed(value=3).ok
    assert not Parsed(value=3, needs_confirmation=True).ok
    assert not Parsed(value=None, problem="pain.no_number").ok
    assert Parsed(value=False).ok  # "no" is a real answer


# ---------------------------------------------------------------------------------------- re-ask hints


def test_every_hint_is_short_plain_and_kind() -> None:
    for problem, hint in PROBLEMS.items():
        assert problem.count(".") == 1, problem
        assert 3 <= len(hint.split()) <= 20, problem
        assert hint[0].isupper() and hint[-1] in ".?", problem


# ------------------------------------------------------------------------------------- any text at all

# Text likely to reach the tricky paths: digits, separators, units, meter words, emoji.
PIECES = [
    *"0123456789.,-/:%+<> ", "½", "7️⃣", "👍", "HI", "LO", "Hi", "mmol", "mg/dl", "pm", "am", "to", "or",
    "and a half", "°F", "C", "out of 10", "ketones", "units", "hba1c", "not", "no", "yes", "hot", "shivery",
    "half", "seven", "between", "over", "a bit", "better", "worse", "same",
]  # fmt: skip
ANSWERS = st.one_of(st.text(max_size=80), st.lists(st.sampled_from(PIECES), max_size=20).map("".join))


def _well_formed(parsed: Parsed[Any]) -> None:
    if parsed.value is None:
        assert parsed.problem in PROBLEMS
        assert not parsed.needs_confirmation
    else:
        assert parsed.problem is None


@settings(max_examples=400)
@given(ANSWERS)
def test_any_text_gives_a_well_formed_result_in_range(text: str) -> None:
    pain, percent, pgic = parse_pain(text), parse_percent(text), parse_pgic(text)
    glucose, temperature, yes_no = parse_glucose(text), parse_temperature(text), parse_yes_no(text)
    for parsed in (pain, percent, pgic, glucose, temperature, yes_no):
        _well_formed(parsed)
    assert pain.value is None or 0 <= pain.value <= 10
    assert percent.value is None or 0 <= percent.value <= 100
    assert pgic.value is None or 1 <= pgic.value <= 7
    assert glucose.value is None or 1.0 <= glucose.value.mmol_per_l <= 33.3
    assert glucose.value is None or glucose.value.mmol_per_l == round(glucose.value.mmol_per_l, 1)
    if temperature.value is not None:
        celsius = temperature.value.celsius
        assert 34.0 <= celsius <= 43.0 if celsius is not None else temperature.value.feels_feverish


@settings(max_examples=200)
@given(ANSWERS, st.lists(st.tuples(st.text(max_size=12), st.text(max_size=24)), max_size=5))
def test_any_text_picks_one_of_the_options_or_none(text: str, options: list[tuple[str, str]]) -> None:
    parsed = parse_choice(text, options)
    _well_formed(parsed)
    assert parsed.value is None or parsed.value in {oid for oid, _ in options}


@given(st.integers(min_value=0, max_value=10))
def test_every_pain_score_reads_back(score: int) -> None:
    assert parse_pain(str(score)).value == score
    assert parse_pain(f"{score}/10").value == score


@given(st.integers(min_value=10, max_value=333))
def test_every_meter_reading_reads_back(tenths: int) -> None:
    text = f"{tenths // 10}.{tenths % 10}"
    assert parse_glucose(text) == Parsed(value=GlucoseReading(mmol_per_l=tenths / 10))


@given(st.integers(min_value=340, max_value=430))
def test_every_body_temperature_reads_back(tenths: int) -> None:
    text = f"{tenths // 10}.{tenths % 10}"
    assert parse_temperature(text) == Parsed(value=TemperatureReading(celsius=tenths / 10))


@given(st.integers(min_value=0, max_value=10), st.integers(min_value=0, max_value=10))
def test_a_pain_comparison_reads_the_score_now(before: int, now: int) -> None:
    for text in (
        f"was {before} now {now}",
        f"from a {before} to a {now}",
        f"went from {before} down to {now}",
        f"{now} now, was {before}",
        f"{now} but was {before} yesterday",
        f"{before} yesterday, {now} today",
        f"{before} -> {now}",
    ):
        assert parse_pain(text) == Parsed(value=now), text


@given(st.integers(min_value=0, max_value=10))
def test_pain_n_plus_reads_n(score: int) -> None:
    assert parse_pain(f"{score}+") == Parsed(value=score)


COUNTED = [
    "biscuit",
    "biscuits",
    "slices of toast",
    "jelly babies",
    "tablets",
    "metformin",
    "times",
    "sweets",
]


@given(
    st.integers(min_value=1, max_value=30), st.sampled_from(COUNTED), st.sampled_from(["had", "ate", "took"])
)
def test_a_number_that_counts_something_is_never_a_glucose_reading(n: int, thing: str, verb: str) -> None:
    assert parse_glucose(f"I {verb} {n} {thing} and feel fine").value is None


@given(st.integers(min_value=10, max_value=332))
def test_just_over_a_glucose_number_reads_a_tenth_above_it(tenths: int) -> None:
    text = f"just over {tenths // 10}.{tenths % 10}"
    assert parse_glucose(text) == Parsed(value=GlucoseReading(mmol_per_l=(tenths + 1) / 10))


FEVER_WORDS = [
    "shivering",
    "shaking",
    "shivers",
    "rigors",
    "sweats",
    "chills",
    "burning up",
    "hot and shivery",
]


@given(st.integers(min_value=340, max_value=430), st.sampled_from(FEVER_WORDS))
def test_feeling_feverish_is_reported_whatever_the_number_says(tenths: int, feeling: str) -> None:
    text = f"{tenths // 10}.{tenths % 10} and {feeling}"
    assert parse_temperature(text) == Parsed(
        value=TemperatureReading(celsius=tenths / 10, feels_feverish=True)
    )


HEDGES = [
    "not really", "a bit", "a little", "maybe", "not sure", "sort of", "kind of", "i think so", "possibly",
    "a touch", "slightly", "now and then", "on and off", "sometimes",
]  # fmt: skip
# Not "not": "not a bit" is British for "not at all", a clean no.
AROUND = ["", "no", "nope", "no thanks", "none", "i", "my leg", "thanks", "x"]


@given(st.sampled_from(AROUND), st.sampled_from(HEDGES), st.sampled_from(AROUND))
def test_a_hedged_answer_is_never_a_clean_no(before: str, hedge: str, after: str) -> None:
    assert parse_yes_no(f"{before} {hedge} {after}").value is not False
