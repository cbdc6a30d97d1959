"""overlay: the Overlay Portal's command-line client (docs/cli.md)."""

__version__ = "0.1.0"
