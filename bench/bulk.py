"""The direct bulk loader: the ceiling of what Elasticsearch takes on this machine.

Documents already parsed and encoded as the shipper encodes them (``encode_items``,
``chunk_items``, ``request_body``) into indices made from the shipper's templates, sent
with the shipper's client, asking for the same short answers (``BULK_FILTER_PATH``), over
``streams`` connections at once: no queue, no job, no JSON work on the client while timed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from elasticsearch import Elasticsearch
from elasticsearch.serializer import OrjsonSerializer

from logagg.elasticsearch_client import connect_elasticsearch
from logagg.queues import ParsedBatch
from logagg.settings import ElasticsearchSettings
from logagg.shipper.elasticsearch.bulk import chunk_items, encode_items, request_body
from logagg.shipper.elasticsearch.cluster import BULK_FILTER_PATH, prepare_cluster

BULK_DOCS = 2_000  # the shipper's default LOGAGG_SHIP_BULK_MAX_DOCS
BULK_BYTES = 10 * 1024**2  # the shipper's default LOGAGG_SHIP_BULK_MAX_BYTES


def connect(es_url: str) -> Elasticsearch:
    """The shipper's client, answers read with orjson."""
    return connect_elasticsearch(
        ElasticsearchSettings.from_env({"ELASTICSEARCH_URL": es_url, "LOGAGG_ES_TIMEOUT": "120"}),
        serializer=OrjsonSerializer(),
    )


def bulk_bodies(
    es: Elasticsearch, batches: Sequence[ParsedBatch], *, prefix: str, namespace: str
) -> list[bytes]:
    """Install the shipper's templates for ``namespace`` and encode every batch's bulk
    requests, as the shipper cuts them."""
    layout = prepare_cluster(es, prefix=prefix, namespace=namespace, layout="auto")
    bodies = []
    for batch in batches:
        items = encode_items(batch["events"], batch["batch_id"], layout, namespace)
        bodies += [request_body(c) for c in chunk_items(items, BULK_DOCS, BULK_BYTES)]
    return bodies


def bulk_load(es: Elasticsearch, bodies: Sequence[bytes], streams: int = 1) -> float:
    """Send every body over ``streams`` connections at once; seconds taken.

    Raises ``SystemExit`` on any item error: a ceiling that dropped documents is none.
    """

    def load(body: bytes) -> None:
        answer = es.bulk(operations=body, filter_path=BULK_FILTER_PATH)  # type: ignore[arg-type]
        failed = [item for item in answer["items"] if next(iter(item.values()))["status"] >= 300]
        if failed:
            raise SystemExit(f"direct bulk load had errors: {failed[:2]}")

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=streams) as pool:
        list(pool.map(load, bodies))
    return time.perf_counter() - started


def direct_load(
    es_url: str,
    namespace: str,
    batches: Sequence[ParsedBatch],
    streams: int = 1,
    prefix: str = "bench",
) -> dict[str, float]:
    """Bulk-load the documents straight into Elasticsearch over ``streams`` connections."""
    es = connect(es_url)
    bodies = bulk_bodies(es, batches, prefix=prefix, namespace=namespace)
    documents = sum(len(b["events"]) for b in batches)
    seconds = bulk_load(es, bodies, streams)
    es.close()
    return {"documents": documents, "seconds": seconds, "docs_per_s": documents / seconds}
