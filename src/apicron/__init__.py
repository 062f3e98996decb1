"""apicron: a self-hosted API scheduler with its own API gateway."""

__version__ = "0.1.0"
