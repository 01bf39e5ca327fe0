"""Why a queue action cannot be done; the console shows ``str(exc)`` (Chinese)."""
from __future__ import annotations


class QueueError(Exception):
    """A queue action that cannot be done; the message is shown to the lawyer."""


class TicketNotFound(QueueError, LookupError):
    def __init__(self, ticket_id: object) -> None:
        super().__init__(f"咨询单不存在：{ticket_id}")
        self.ticket_id = ticket_id


class AlreadyClaimed(QueueError):
    pass


class NotOwner(QueueError):
    pass


class BadTransition(QueueError):
    pass


class EmptyReply(QueueError):
    pass


class NotAllowed(QueueError):
    pass


class UnknownStaff(QueueError):
    pass
