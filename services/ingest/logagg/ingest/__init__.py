"""The ingest service: the authenticated HTTP door into LogAggregator."""
