"""Train the safety net's statistical layer and write it as data: flows/data/safety_model.json.

    python3 -m venv /tmp/ml && /tmp/ml/bin/pip install scikit-learn==1.9.1
    /tmp/ml/bin/python tools/train_safety_model.py            # writes flows/data/safety_model.json

A maintainer's tool, not part of the service: the service reads the JSON with the standard library only
(flows/screening/_model.py reproduces the features and the arithmetic exactly; a test checks that it does).
Trained on every labelled free-text message in tests/flows/corpus (not answers to questions). Two multinomial
logistic regressions over TF-IDF word 1-2-grams and character 2-5-grams (within words):
- level: red / amber / green;
- domain, trained on the red messages only: which red-flag question to ask (legs, bladder, bowel, saddle...).
The layer never grades a message on its own: when it thinks a message is red and the rules did not, the bot
asks the matching red-flag question (docs/clinical-safety/safety-net.md, "A statistical layer").
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "flows" / "corpus"
OUT = ROOT / "flows" / "data" / "safety_model.json"
DIGITS = 5  # weights rounded: the file stays small, the probabilities move by < 1e-3


def vectorizers() -> list[TfidfVectorizer]:
    return [
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True),
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
    ]


def fit(texts: list[str], labels: list[str]) -> dict[str, object]:
    vecs = vectorizers()
    import scipy.sparse as sp

    x = sp.hstack([v.fit_transform(texts) for v in vecs]).tocsr()
    model = LogisticRegression(max_iter=5000, C=4, class_weight="balanced")
    model.fit(x, labels)
    classes = [str(c) for c in model.classes_]
    coef = model.coef_ if len(classes) > 2 else None
    assert coef is not None, "two-class models are not supported"
    parts = []
    offset = 0
    for v in vecs:
        vocab = v.vocabulary_
        idf = v.idf_
        features = {}
        for term, index in vocab.items():
            weights = [round(float(coef[k][offset + index]), DIGITS) for k in range(len(classes))]
            features[term] = [round(float(idf[index]), DIGITS), weights]
        parts.append({"analyzer": v.analyzer, "ngram_range": list(v.ngram_range), "features": features})
        offset += len(vocab)
    return {
        "classes": classes,
        "intercept": [round(float(b), DIGITS) for b in model.intercept_],
        "vectorizers": parts,
    }


def main() -> None:
    files = sorted(CORPUS.rglob("*.jsonl"))
    rows = [json.loads(line) for f in files for line in f.read_text().splitlines() if line.strip()]
    free = [r for r in rows if "question" not in r]
    red = [r for r in free if r["expected"] == "red" and r.get("domain")]
    digest = hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()
    model = {
        "about": "tools/train_safety_model.py; docs/clinical-safety/safety-net.md",
        "corpus_sha256": digest,
        "trained_on": len(free),
        "level": fit([r["text"] for r in free], [r["expected"] for r in free]),
        "domain": fit([r["text"] for r in red], [r["domain"] for r in red]),
    }
    OUT.write_text(json.dumps(model, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    print(f"{OUT}: {OUT.stat().st_size // 1024} KiB from {len(free)} messages ({len(red)} red)")


if __name__ == "__main__":
    main()
