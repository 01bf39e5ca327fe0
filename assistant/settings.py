"""The assistant's decision thresholds."""
from __future__ import annotations

from pydantic_settings import BaseSettings

from knowledge.settings import ENV


class AssistantSettings(BaseSettings):
    model_config = ENV

    # Decision thresholds on the calibrated answerability (assistant/answerability.py), chosen
    # from the table `fazhi calibrate bench/data/real_labels.jsonl --split calib` prints (349 real
    # residents' questions judged by reading against the top candidates of the seed KB as it was
    # before faq_group8-11, which were written from those questions; e5, hybrid):
    # 0.65 is the lowest threshold at which 90% of the answers are right (3.2% of the questions
    # answered, 10 of 11 right, all right or partly); at 0.60 the share right falls to 73%.
    # Between 0.20 and 0.65 the candidates at or above the floor are offered as choices (at
    # least two), else the question goes to a lawyer.
    answer_threshold: float = 0.65
    suggest_threshold: float = 0.20
    suggest_floor: float = 0.10
    legal_threshold: float = 0.5
    max_query_chars: int = 500
