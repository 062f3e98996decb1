"""The ``apicron`` command line: ``serve`` and friends, and a client of the REST API."""
