"""Who may call ingest: passwords, the user store, tokens and login throttling."""
