"""Command-line entry points. Headless commands never import Textual."""
