"""Calibrated confidence: the probability that a candidate answers the question.

A logistic curve over the answerability features (``assistant/answerability.py``), fitted
per (embedding model, retrieval mode) on pair-labelled real questions, so that 0.7 means
"right about 70% of the time" in every mode. The fitted numbers and the data they came from live in
``assistant/data/calibration.json`` (written by ``fazhi calibrate``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.answerability import FEATURES

CALIBRATION_FILE = Path(__file__).parent / "data" / "calibration.json"


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-2, iters: int = 50) -> tuple[list[float], float]:
    """Newton's method on the L2-regularised log-likelihood (features standardised inside)."""
    mean, std = x.mean(0), x.std(0) + 1e-9
    z = np.hstack([(x - mean) / std, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    reg = np.eye(z.shape[1]) * l2
    reg[-1, -1] = 0.0
    for _ in range(iters):
        p = 1 / (1 + np.exp(-z @ w))
        grad = z.T @ (p - y) + reg @ w
        hess = (z.T * (p * (1 - p))) @ z + reg
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    coef = w[:-1] / std
    intercept = w[-1] - float((w[:-1] * mean / std).sum())
    return coef.tolist(), float(intercept)


@dataclass
class LogisticCalibration:
    coef: list[float]
    intercept: float
    n: int = 0
    source: str = ""

    def probability(self, x: np.ndarray) -> float:
        return float(1 / (1 + np.exp(-(np.dot(self.coef, x) + self.intercept))))


@dataclass
class CalibrationBook:
    """All fitted calibrations, keyed ``"<model>|<mode>"``, plus the decline margin."""

    entries: dict[str, LogisticCalibration] = field(default_factory=dict)
    legal_margin: dict[str, float] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def key(model: str, mode: str) -> str:
        return f"{model}|{mode}"

    def get(self, model: str, mode: str) -> LogisticCalibration:
        found = self.entries.get(self.key(model, mode))
        if found is not None:
            return found
        # Features are on each model's own scale, so another model's curve would mislead:
        # an uncalibrated model (e.g. the tests' hashing embedder) gets a neutral prior on the
        # fused score and its margin until `fazhi calibrate` is run for it.
        prior = [4.0, 6.0] + [0.0] * (len(FEATURES) - 2)
        return LogisticCalibration(coef=prior, intercept=-4.0, source="built-in prior")

    def margin(self, model: str, default: float) -> float:
        return self.legal_margin.get(model, default)

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> CalibrationBook:
        if not path.is_file():
            return cls()
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("features") != list(FEATURES):  # curves fitted on other features mean nothing
            return cls(legal_margin=raw.get("legal_margin", {}), notes=raw.get("notes", {}))
        return cls({k: LogisticCalibration(**v) for k, v in raw.get("entries", {}).items()},
                   raw.get("legal_margin", {}), raw.get("notes", {}))

    def save(self, path: Path = CALIBRATION_FILE) -> None:
        data = {"features": list(FEATURES), "notes": self.notes, "legal_margin": self.legal_margin,
                "entries": {k: vars(v) for k, v in sorted(self.entries.items())}}
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
