"""Residents' privacy: how long their words are kept (``retention``, ``settings``).

The masking of personal numbers is ``assistant.pii``.
"""
