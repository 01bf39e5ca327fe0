"""The logistic fit and the calibration lookup behind ``confidence``."""
from __future__ import annotations

import json

import numpy as np

from assistant.confidence import FEATURES, CalibrationBook, LogisticCalibration, fit_logistic


def test_the_fit_recovers_the_direction_and_size_of_a_known_curve():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(4000, 2))
    p = 1 / (1 + np.exp(-(3.0 * x[:, 0] - 1.0)))
    y = (rng.random(4000) < p).astype(float)
    coef, intercept = fit_logistic(x, y)
    assert abs(coef[0] - 3.0) < 0.4 and abs(coef[1]) < 0.3
    assert abs(intercept + 1.0) < 0.3


def test_the_fitted_curve_gives_probabilities_that_rise_with_the_feature():
    x = np.linspace(-2, 2, 200).reshape(-1, 1)
    y = (x[:, 0] > 0).astype(float)
    coef, intercept = fit_logistic(x, y)
    curve = LogisticCalibration(coef, intercept)
    assert curve.probability(np.array([-1.5])) < 0.1 < 0.9 < curve.probability(np.array([1.5]))


def test_the_book_finds_the_curve_of_the_model_and_mode():
    fitted = LogisticCalibration([1.0] * len(FEATURES), 0.0, n=50, source="seed")
    book = CalibrationBook({CalibrationBook.key("e5", "hybrid"): fitted})
    assert book.get("e5", "hybrid") is fitted


def test_an_uncalibrated_model_gets_the_neutral_prior_not_another_models_curve():
    book = CalibrationBook({CalibrationBook.key("e5", "hybrid"): LogisticCalibration([9.0] * 5, 9.0)})
    prior = book.get("hashing", "hybrid")
    assert prior.source == "built-in prior"
    assert book.get("e5", "bm25").source == "built-in prior"


def test_the_decline_margin_falls_back_to_the_default_for_an_unknown_model():
    book = CalibrationBook(legal_margin={"e5": 0.07})
    assert book.margin("e5", 0.0) == 0.07 and book.margin("hashing", 0.0) == 0.0


def test_a_saved_book_loads_back_the_same(tmp_path):
    path = tmp_path / "calibration.json"
    book = CalibrationBook({"m|hybrid": LogisticCalibration([0.5] * 5, -1.0, 10, "x")},
                           {"m": 0.1}, {"m": "note"})
    book.save(path)
    again = CalibrationBook.load(path)
    assert again.entries == book.entries and again.legal_margin == {"m": 0.1}
    assert json.loads(path.read_text(encoding="utf-8"))["features"] == list(FEATURES)


def test_a_missing_file_is_an_empty_book(tmp_path):
    assert CalibrationBook.load(tmp_path / "none.json").entries == {}
