"""apicron's benchmarks against its peers, run as ``python -m bench`` (see README.md)."""
