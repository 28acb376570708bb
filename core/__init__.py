"""The contract: event and command models, topic declarations, geo value types. No I/O."""
