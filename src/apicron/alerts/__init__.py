"""Alerts (issue 14): success conditions, the alert outbox and its sender, channels."""
