"""The assistant's decision thresholds."""
from __future__ import annotations

from pydantic_settings import BaseSettings

from knowledge.settings import ENV


class AssistantSettings(BaseSettings):
    model_config = ENV

    # Decision thresholds on the calibrated confidence. Measured with `fazhi calibrate` on
    # bench/data/seed_calib.jsonl (seed KB, embedded e5 model, hybrid; the fitted curves are in
    # assistant/data/calibration.json): at 0.60, 84% of in-KB questions are answered, 94% of
    # answers are right, 3% of out-of-KB legal questions get an answer; between 0.45 and 0.60
    # close candidates are offered (at 0.45, 10% of out-of-KB questions would reach suggest).
    answer_threshold: float = 0.60
    suggest_threshold: float = 0.45
    suggest_margin: float = 0.12
    legal_threshold: float = 0.5
    max_query_chars: int = 500
