"""From a field event to a case command: the routing snapshot, locate, rules, SLAs, screening and duplicates."""
