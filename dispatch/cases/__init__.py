"""The case: its six-step state machine, single writer, store, queries, supervision, metrics and audit."""
