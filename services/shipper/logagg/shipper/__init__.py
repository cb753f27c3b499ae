"""The shipper service: delivers parsed batches to Elasticsearch and to the archive.

Each sink has its own queue and its own worker, so one sink's outage never blocks the
other. The decisions (bulk bodies, per-item outcomes, archive keys, retry or dead-letter)
are pure functions; the sinks are thin I/O around them.
"""
