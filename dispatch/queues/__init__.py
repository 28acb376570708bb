"""What waits for a person: unrouted events and dead letters, their stores, queries and resolution."""
