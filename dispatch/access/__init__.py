"""Who may do and see what: accounts, tokens, scopes, rate limits, the access log and the HTTP auth dependency."""
