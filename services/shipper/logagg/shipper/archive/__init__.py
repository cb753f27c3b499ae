"""The archive sink: gzip NDJSON objects keyed by service, date and hour, in S3 or a folder."""
