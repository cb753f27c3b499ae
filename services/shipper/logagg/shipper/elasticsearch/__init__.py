"""The Elasticsearch sink: templates, index layout, bulk bodies, per-item outcomes, I/O."""
