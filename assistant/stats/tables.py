"""The columns the statistics read from the WeChat channel's message log.

The channel owns that table (``api.wechat.models.InboundMessage``, migrations 0002 and 0007);
the domain packages may not import the delivery layer, so this names the columns it reads
(``tests/assistant/stats`` checks them against the model).  Everything read here survives a
retention purge except ``content``, which no figure is computed from.
"""
from __future__ import annotations

from sqlalchemy import DateTime, Integer, String, Text, column, table

inbound = table(
    "wx_inbound",
    column("id", Integer),
    column("openid", String),
    column("msg_type", String),
    column("received_at", DateTime(timezone=True)),
    column("decision", String),
    column("reason", String),
    column("category", String),
    column("entry_id", Integer),
    column("content", Text),  # only for the examples beside the figures, never a figure
)
