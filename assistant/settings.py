"""The assistant's decision thresholds."""
from __future__ import annotations

from pydantic_settings import BaseSettings

from knowledge.settings import ENV


class AssistantSettings(BaseSettings):
    model_config = ENV

    # Decision thresholds on the calibrated answerability (assistant/answerability.py), chosen
    # from the table `fazhi calibrate bench/data/real_labels.jsonl --split calib` prints (349 real
    # residents' questions judged by reading against the seed KB's top candidates; e5, hybrid):
    # at 0.45, 4.9% of the questions are answered, 77% of those answers right and 100% right or
    # partly; at 0.40 the share right falls to 68% (96% right or partly). Between 0.20 and 0.45
    # the candidates at or above the floor are offered as choices (at least two), else escalated.
    answer_threshold: float = 0.45
    suggest_threshold: float = 0.20
    suggest_floor: float = 0.10
    legal_threshold: float = 0.5
    max_query_chars: int = 500
