"""Durations in words, the two ways residents and staff read them."""
from __future__ import annotations


def promise_text(minutes: int) -> str:
    """A wait in words: “30分钟”, “3小时”, “2天”（rounded up: never promise too little）."""
    if minutes < 60:
        return f"{max(1, minutes)}分钟"
    if minutes < 48 * 60:
        return f"{-(-minutes // 60)}小时"
    return f"{-(-minutes // (24 * 60))}天"


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes = int(round(seconds / 60))
    if seconds < 60:
        return f"{int(round(seconds))}秒"
    if minutes < 60:
        return f"{minutes}分钟"
    hours, mins = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}小时{mins:02d}分"
    days, hours = divmod(hours, 24)
    return f"{days}天{hours}小时"
