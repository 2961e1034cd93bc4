"""Why an answer could not be read, and the kind hint the bot sends when it asks again.

Keys are stable ids: engine state, audits and tests refer to them, so never change what one means; add a new
one instead. Hints are plain English for a reading age of 9-11, at most 20 words, and never blame the patient.
Must not: hold question text (that lives in flows/data) or anything clinical beyond how to answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

_ZERO_TO_TEN = "Please send a number from 0 to 10. 0 is no pain, 10 is the worst pain you can imagine."
_RELIEF = "Please send a number from 0 to 100. 0 means no relief and 100 means the pain has gone."
_PGIC = "Please pick one number, 1 to 7. 1 is very much better, 4 no change, 7 very much worse."
_METER = "Please send the exact number your meter showed, like 6.4."

PROBLEMS: Mapping[str, str] = MappingProxyType({
    "answer.empty": "Sorry, I did not get any words. Please type your answer.",
    # pain, 0-10
    "pain.no_number": _ZERO_TO_TEN,
    "pain.out_of_range": "That number is not on the scale. Please send a number from 0 to 10.",
    "pain.several_numbers": "I saw more than one number. Please send just one number from 0 to 10.",
    "pain.not_exact": "Please send one whole number from 0 to 10. Your best guess is fine.",
    "pain.looks_like_time": "That looks like a time. Please send your pain score, a number from 0 to 10.",
    "pain.looks_like_percent": "Please send your pain as a number from 0 to 10, not a percentage.",
    # percent relief, 0-100
    "percent.no_number": _RELIEF,
    "percent.out_of_range": "Please send a number from 0 to 100. 100 means the pain has gone completely.",
    "percent.several_numbers": "I saw more than one number. Please send just one number from 0 to 100.",
    "percent.not_exact": "Please send your best guess as one number from 0 to 100.",
    "percent.looks_like_pain_score": (
        "That looks like a pain score. How much relief did you get, from 0 to 100?"
    ),
    "percent.looks_like_time": "That looks like a time. How much relief did you get, from 0 to 100?",
    "percent.worse": "Sorry it feels worse. How much relief have you had, from 0 to 100? Send 0 for none.",
    # PGIC, 1-7
    "pgic.no_answer": _PGIC,
    "pgic.out_of_range": "Please send a number from 1 to 7. 1 is very much better, 7 is very much worse.",
    "pgic.unclear": _PGIC,
    # blood glucose
    "glucose.no_number": "Please send the number on your meter, like 7.5. If it shows HI or LO, send that.",
    "glucose.not_checked": "That's OK. If you can check your blood sugar now, please send me the number.",
    "glucose.out_of_range": (
        "That number looks too high or too low for a meter. Please check it and send it again."
    ),
    "glucose.unclear_units": "Please send the reading with its unit, like 12.4 mmol/L or 216 mg/dL.",
    "glucose.several_numbers": "I saw more than one number. Please send one blood sugar reading at a time.",
    "glucose.unclear_range": _METER,
    "glucose.not_exact": _METER,
    "glucose.meter_word_unclear": (
        "Does your meter say HI or LO? Please reply 'it says HI' or 'it says LO', or send the number."
    ),
    "glucose.meter_word_and_number": (
        "Please send just what your meter showed: a number like 7.5, or HI, or LO."
    ),
    "glucose.looks_like_time": (
        "That looks like a time. Please send the blood sugar number your meter showed."
    ),
    "glucose.looks_like_hba1c": (
        "That looks like an HbA1c result. Please send a finger-prick reading from your meter."
    ),
    "glucose.looks_like_insulin": (
        "That looks like an insulin dose. Please send your blood sugar reading from your meter."
    ),
    "glucose.looks_like_ketones": (
        "That looks like a ketone reading. Please send your blood sugar reading from your meter."
    ),
    "glucose.meter_error": (
        "Your meter showed an error. Please try again with a new strip and send me the number."
    ),
    "glucose.looks_like_percent": (
        "Please send your blood sugar reading from your meter, like 7.5, not a percentage."
    ),
    # temperature
    "temperature.no_number": (
        "Please send the number on your thermometer, like 37.2. If you have no thermometer, just say so."
    ),
    "temperature.no_reading": "That's OK. Do you feel hot or shivery?",
    "temperature.out_of_range": (
        "That does not look like a body temperature. Please check your thermometer and send it again."
    ),
    "temperature.several_numbers": "I saw more than one number. Please send just your latest temperature.",
    "temperature.not_exact": "Please send the exact number your thermometer showed, like 37.2.",
    "temperature.looks_like_time": (
        "That looks like a time. Please send the number your thermometer showed, like 37.2."
    ),
    # yes / no
    "yes_no.unsure": "Sorry, I was not sure what you meant. Please reply yes or no.",
    "yes_no.no_with_news": "Sorry, I was not sure what you meant. Please reply yes or no.",
    "yes_no.no_answer": "Please reply yes or no.",
    # choice from a list
    "choice.no_match": "Sorry, I could not match that to an option. Please pick one, or send its number.",
    "choice.ambiguous": "That could fit more than one option. Please pick just one, or send its number.",
})  # fmt: skip

# Answers the parser understood although they hold no number to grade: the patient said why ("my meter shows
# E-4", "not checked yet", "strips ran out"). The statistical layer, trained on free text, does not guess at
# them (flows/engine.py); the rules still screen every word.
UNDERSTOOD_WITHOUT_A_NUMBER: frozenset[str] = frozenset({"glucose.meter_error", "glucose.not_checked"})
