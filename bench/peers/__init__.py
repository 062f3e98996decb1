"""The schedulers and load generators apicron is measured against, each run as its own
process that speaks one JSON line per event on stdout (``{"event": "ready", …}``)."""
