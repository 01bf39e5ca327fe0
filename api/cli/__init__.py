"""The ``fazhi`` command line: one module per command group."""
from api.cli.parser import main

__all__ = ["main"]
