"""Settings of the learning loop (``FAZHI_LEARNING_*``)."""
from __future__ import annotations

from pydantic_settings import BaseSettings

from knowledge.settings import ENV


class LearningSettings(BaseSettings):
    model_config = ENV

    #: Cosine distance at which average-linkage clustering stops merging groups; empty: the
    #: value measured for the embedding model (``groups.DISTANCE_BY_MODEL``).
    learning_group_distance: float | None = None
    #: An answer whose confidence is below the answer threshold plus this margin counts as
    #: low-confidence (it was answered, but only just).
    learning_answer_margin: float = 0.10
    #: A message declined as not legal counts only from this length: shorter ones are small
    #: talk ("你好", "在吗"; median 6 characters in eval_chitchat_dev).
    learning_min_declined_chars: int = 12
    #: At most this many of the newest questions in the date range are grouped.
    learning_max_questions: int = 2000
    learning_groups_per_page: int = 10
    learning_default_days: int = 30
