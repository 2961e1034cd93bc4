"""The safety net's statistical layer: two linear models over words and letter groups, read from data.

flows/data/safety_model.json is written by tools/train_safety_model.py (scikit-learn, a maintainer's tool).
This module reproduces scikit-learn's features and arithmetic with the standard library, so the service needs
no machine-learning package: lower case; word 1-2-grams (words of two or more letters) and letter 2-5-grams
within each word padded with a space; counts as 1 + log(count), times the idf, scaled to length 1 per kind;
scores = weights . features + intercept; probabilities by softmax. tests/flows/test_screening_model.py checks
the figures against the trainer's.

What it is for: a message the rules did not grade red but that reads like the corpus's red messages gets
the red-flag question of its most likely area. It never grades a message and never reassures: it can only ask.
Explainable: the words and letter groups that pushed it most towards red are returned with the ask.
Pure: reads the packaged JSON once; no clock, no I/O after that.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_SPACES = re.compile(r"\s\s+")


@dataclass(frozen=True, kw_only=True)
class _Vectorizer:
    analyzer: str  # "char_wb" or "word"
    low: int
    high: int
    features: Mapping[str, tuple[float, tuple[float, ...]]]  # term -> (idf, weight per class)

    def terms(self, text: str) -> Counter[str]:
        text = text.lower()
        if self.analyzer == "char_wb":
            return Counter(_char_wb(_SPACES.sub(" ", text), self.low, self.high))
        return Counter(_word_ngrams(_TOKEN.findall(text), self.low, self.high))


@dataclass(frozen=True, kw_only=True)
class LinearModel:
    classes: tuple[str, ...]
    intercept: tuple[float, ...]
    vectorizers: tuple[_Vectorizer, ...]

    def scores(self, text: str) -> tuple[dict[str, float], list[tuple[float, str]]]:
        """Probability per class, and each feature's push towards every class (for the explanation)."""
        totals = list(self.intercept)
        contributions: dict[str, tuple[float, ...]] = {}
        for vectorizer in self.vectorizers:
            counts = vectorizer.terms(text)
            values = {
                term: (1 + math.log(n)) * vectorizer.features[term][0]
                for term, n in counts.items()
                if term in vectorizer.features
            }
            norm = math.sqrt(sum(v * v for v in values.values())) or 1.0
            for term, value in values.items():
                weights = vectorizer.features[term][1]
                scaled = value / norm
                for k, weight in enumerate(weights):
                    totals[k] += weight * scaled
                contributions[term] = tuple(weight * scaled for weight in weights)
        top = max(totals)
        exp = [math.exp(t - top) for t in totals]
        total = sum(exp)
        probabilities = {c: e / total for c, e in zip(self.classes, exp, strict=True)}
        best = max(range(len(self.classes)), key=lambda k: totals[k])
        # (push towards the most likely class, term), strongest first: why the model leans the way it does
        return probabilities, sorted(
            ((push[best], term) for term, push in contributions.items()), reverse=True
        )


@dataclass(frozen=True, kw_only=True)
class SafetyModel:
    level: LinearModel
    domain: LinearModel
    corpus_sha256: str


def _char_wb(text: str, low: int, high: int) -> list[str]:
    grams = []
    for word in text.split():
        padded = f" {word} "
        for n in range(low, high + 1):
            offset = 0
            grams.append(padded[offset : offset + n])
            while offset + n < len(padded):
                offset += 1
                grams.append(padded[offset : offset + n])
            if offset == 0:  # a word shorter than n counts once
                break
    return grams


def _word_ngrams(tokens: Sequence[str], low: int, high: int) -> list[str]:
    grams = list(tokens) if low == 1 else []
    for n in range(max(low, 2), min(high + 1, len(tokens) + 1)):
        grams += [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    return grams


def _linear(raw: Mapping[str, object]) -> LinearModel:
    vectorizers = []
    for part in raw["vectorizers"]:  # type: ignore[attr-defined]
        low, high = part["ngram_range"]
        features = {term: (float(idf), tuple(weights)) for term, (idf, weights) in part["features"].items()}
        vectorizers.append(_Vectorizer(analyzer=part["analyzer"], low=low, high=high, features=features))
    return LinearModel(
        classes=tuple(raw["classes"]),  # type: ignore[arg-type]
        intercept=tuple(raw["intercept"]),  # type: ignore[arg-type]
        vectorizers=tuple(vectorizers),
    )


@cache
def safety_model() -> SafetyModel:
    raw = json.loads((files("flows") / "data" / "safety_model.json").read_text(encoding="utf-8"))
    return SafetyModel(
        level=_linear(raw["level"]), domain=_linear(raw["domain"]), corpus_sha256=raw["corpus_sha256"]
    )
