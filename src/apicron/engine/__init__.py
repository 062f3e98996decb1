"""The scheduler engine: plans due occurrences from the store, fires them through the
gateway's pipeline, retries, records every attempt, and recovers after a crash."""
