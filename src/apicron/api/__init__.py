"""The management REST API (DESIGN.md's contract): thin routers over the services."""
