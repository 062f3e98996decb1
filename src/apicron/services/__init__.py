"""Use cases over the Store: every rule that needs stored state is enforced here.

The API, the CLI (through the API) and the console are thin edges over these services.
"""
