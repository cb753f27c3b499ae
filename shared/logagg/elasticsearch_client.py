"""The Elasticsearch client every process builds from :class:`ElasticsearchSettings`."""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch

from logagg.errors import LogaggError
from logagg.settings import ElasticsearchSettings


def connect_elasticsearch(settings: ElasticsearchSettings, **overrides: Any) -> Elasticsearch:
    """Return a client for ``settings.url`` (no I/O until the first request).

    TLS verification stays on unless ``LOGAGG_ES_VERIFY_CERTS=false`` says otherwise.
    Retries are left to the caller, which knows whether an operation is idempotent.
    """
    if settings.url is None:
        raise LogaggError("ELASTICSEARCH_URL is not set")
    options: dict[str, Any] = {
        "request_timeout": settings.request_timeout,
        "verify_certs": settings.verify_certs,
        "max_retries": 0,
        "retry_on_timeout": False,
    }
    if settings.ca_certs:
        options["ca_certs"] = settings.ca_certs
    if not settings.verify_certs:
        options["ssl_show_warn"] = False
    if settings.api_key is not None:
        options["api_key"] = settings.api_key.reveal()
    elif settings.username and settings.password is not None:
        options["basic_auth"] = (settings.username, settings.password.reveal())
    options.update(overrides)
    return Elasticsearch(settings.url, **options)
