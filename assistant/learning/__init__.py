"""The learning loop: what residents asked that went unanswered or disliked, grouped by
meaning, turned into draft answers; and review tasks for entries residents disliked.

``models`` (review tasks, drafts made from groups, the reasons), ``feedback`` (a dislike's
reason, review tasks), ``unanswered`` (which messages count), ``groups`` (embedding and
clustering them), ``drafts`` (a knowledge-base draft from a group), ``settings``.
"""
