"""The rendered Kubernetes objects: schema-valid for 1.30 and safe by default."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from logagg.queues import PARSE, PARSE_JOB, SHIP_ES, SHIP_ES_JOB, SHIP_S3, SHIP_S3_JOB, queue_key

from .conftest import KUBE

KUBERNETES_VERSION = "1.30.0"
CUSTOM_API_GROUPS = {
    "ScaledObject": "keda.sh/v1alpha1",
    "TriggerAuthentication": "keda.sh/v1alpha1",
    "Elasticsearch": "elasticsearch.k8s.elastic.co/v1",
    "Kibana": "kibana.k8s.elastic.co/v1",
}
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "Job")
# worker Deployment -> (the queue it works, that queue's job spec)
WORKERS = {
    "parser": (PARSE, PARSE_JOB),
    "shipper-es": (SHIP_ES, SHIP_ES_JOB),
    "shipper-s3": (SHIP_S3, SHIP_S3_JOB),
}
PART_OF = "app.kubernetes.io/part-of"


def find(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


def of_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def containers(workload: dict[str, Any]) -> Iterator[dict[str, Any]]:
    spec = pod_spec(workload)
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


def workloads(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] in WORKLOAD_KINDS]


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def env_of(container: dict[str, Any], objects: list[dict[str, Any]]) -> dict[str, Any]:
    """The container's environment: ConfigMap values, then explicit entries."""
    env: dict[str, Any] = {}
    for source in container.get("envFrom", []):
        config = find(objects, "ConfigMap", source["configMapRef"]["name"])
        env.update(config["data"])
    for entry in container.get("env", []):
        env[entry["name"]] = entry.get("value", entry.get("valueFrom"))
    return env


# -- schema -----------------------------------------------------------------------------


def test_every_core_object_passes_the_kubernetes_1_30_schema(
    rendered: list[dict[str, Any]],
) -> None:
    checked = set()
    for obj in rendered:
        if obj["kind"] in CUSTOM_API_GROUPS:
            continue
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        checked.add(obj["kind"])
    assert checked == {
        "Namespace",
        "ServiceAccount",
        "ConfigMap",
        "Service",
        "Deployment",
        "StatefulSet",
        "Job",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "NetworkPolicy",
    }


def test_the_validator_rejects_a_misspelt_field(base: list[dict[str, Any]]) -> None:
    broken = copy.deepcopy(find(base, "Deployment", "ingest"))
    pod_spec(broken)["containers"][0]["readinesProbe"] = {"httpGet": {"path": "/", "port": 1}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_custom_resources_use_the_operators_api_versions(rendered: list[dict[str, Any]]) -> None:
    kinds = {o["kind"]: o["apiVersion"] for o in rendered if o["kind"] in CUSTOM_API_GROUPS}
    assert kinds == CUSTOM_API_GROUPS
    assert len(of_kind(rendered, "ScaledObject")) == len(WORKERS)


# Field names of the operators' CRD schemas (KEDA 2.x ScaledObject, ECK v1 Elasticsearch
# and Kibana): the custom resources are not in the core schemas, so their shape is checked
# here; a misspelt field would be dropped or refused by the API server.
CUSTOM_RESOURCE_FIELDS = {
    "ScaledObject": {
        "spec": {
            "scaleTargetRef",
            "pollingInterval",
            "cooldownPeriod",
            "initialCooldownPeriod",
            "idleReplicaCount",
            "minReplicaCount",
            "maxReplicaCount",
            "advanced",
            "fallback",
            "triggers",
        },
        "trigger": {
            "type",
            "name",
            "metadata",
            "authenticationRef",
            "metricType",
            "useCachedMetrics",
        },
    },
    "Elasticsearch": {
        "spec": {
            "version",
            "image",
            "http",
            "transport",
            "nodeSets",
            "updateStrategy",
            "secureSettings",
            "auth",
        },
        "nodeSet": {"name", "count", "config", "podTemplate", "volumeClaimTemplates"},
    },
    "Kibana": {
        "spec": {
            "version",
            "image",
            "count",
            "elasticsearchRef",
            "config",
            "http",
            "podTemplate",
            "secureSettings",
        },
    },
}


def test_custom_resources_have_the_operators_shape(rendered: list[dict[str, Any]]) -> None:
    for scaled in of_kind(rendered, "ScaledObject"):
        fields = CUSTOM_RESOURCE_FIELDS["ScaledObject"]
        assert set(scaled["spec"]) <= fields["spec"], scaled["metadata"]["name"]
        assert {"scaleTargetRef", "triggers"} <= set(scaled["spec"])
        for trigger in scaled["spec"]["triggers"]:
            assert set(trigger) <= fields["trigger"]
            # the CRD types trigger metadata as a map of strings
            assert all(isinstance(v, str) for v in trigger["metadata"].values()), trigger
        for key in ("pollingInterval", "cooldownPeriod", "minReplicaCount", "maxReplicaCount"):
            assert isinstance(scaled["spec"][key], int)
    (elasticsearch,) = of_kind(rendered, "Elasticsearch")
    assert set(elasticsearch["spec"]) <= CUSTOM_RESOURCE_FIELDS["Elasticsearch"]["spec"]
    for node_set in elasticsearch["spec"]["nodeSets"]:
        assert set(node_set) <= CUSTOM_RESOURCE_FIELDS["Elasticsearch"]["nodeSet"]
        assert isinstance(node_set["count"], int)
        assert node_set["count"] >= 1
        (container,) = node_set["podTemplate"]["spec"]["containers"]
        # ECK merges the pod template by container name
        assert container["name"] == "elasticsearch"
        assert (
            container["resources"]["requests"]["memory"]
            == container["resources"]["limits"]["memory"]
        )
    (kibana,) = of_kind(rendered, "Kibana")
    assert set(kibana["spec"]) <= CUSTOM_RESOURCE_FIELDS["Kibana"]["spec"]
    (container,) = kibana["spec"]["podTemplate"]["spec"]["containers"]
    assert container["name"] == "kibana"


def test_secret_template_is_valid_and_holds_placeholders_only() -> None:
    secrets = list(yaml.safe_load_all((KUBE / "secrets.example.yaml").read_text()))
    assert {s["metadata"]["name"] for s in secrets} == {
        "logagg-auth",
        "logagg-redis",
        "logagg-s3",
        "logagg-dashboard",
    }
    for secret in secrets:
        kubernetes_validate.validate(secret, KUBERNETES_VERSION, strict=True)
        assert "data" not in secret
        assert set(secret["stringData"].values()) == {"CHANGE-ME"}
    # the services refuse the placeholder: shorter than the JWT and password minimums
    assert len("CHANGE-ME") < 12


def test_every_referenced_secret_key_exists(rendered: list[dict[str, Any]]) -> None:
    template = {
        s["metadata"]["name"]: set(s["stringData"])
        for s in yaml.safe_load_all((KUBE / "secrets.example.yaml").read_text())
    }
    elasticsearch = of_kind(rendered, "Elasticsearch")[0]["metadata"]["name"]
    generated = {f"{elasticsearch}-es-elastic-user": {"elastic"}}
    known = template | generated
    references = 0
    for workload in workloads(rendered):
        for container in containers(workload):
            for entry in container.get("env", []):
                ref = entry.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    references += 1
                    assert ref["key"] in known.get(ref["name"], set()), (
                        f"{workload['metadata']['name']}: {entry['name']} reads an unknown "
                        f"secret key {ref['name']}/{ref['key']}"
                    )
    assert references >= 5


def test_no_secret_is_rendered(rendered: list[dict[str, Any]]) -> None:
    # a Secret in the kustomization would overwrite the real one on every apply
    assert of_kind(rendered, "Secret") == []


# -- images -----------------------------------------------------------------------------


def images(objects: list[dict[str, Any]]) -> list[str]:
    return [c["image"] for w in workloads(objects) for c in containers(w)]


def test_every_image_is_pinned(rendered: list[dict[str, Any]]) -> None:
    for image in images(rendered):
        name, _, tag = image.rpartition(":")
        assert name, f"{image}: no tag"
        assert "/" not in tag, f"{image}: no tag"
        assert tag != "latest", f"{image}: `latest` is not a release"
        assert re.fullmatch(r"\d+\.\d+\.\d+", tag), f"{image}: pin a full version"
    for resource in of_kind(rendered, "Elasticsearch") + of_kind(rendered, "Kibana"):
        assert re.fullmatch(r"8\.17\.\d+", resource["spec"]["version"])


def test_overlay_points_the_project_image_at_its_registry(
    base: list[dict[str, Any]], overlay: list[dict[str, Any]]
) -> None:
    assert "logagg:0.1.0" in images(base)
    project = {i for i in images(overlay) if "redis" not in i and "nginx" not in i}
    assert project == {"ghcr.io/example-org/logagg:0.1.0"}


def test_every_project_container_runs_the_one_image_with_a_command(
    rendered: list[dict[str, Any]],
) -> None:
    commands = {}
    for workload in workloads(rendered):
        for container in containers(workload):
            if "logagg" in container["image"]:
                assert "command" not in container or container["command"][0] == "/bin/sh"
                commands[workload["metadata"]["name"]] = container["args"]
    assert commands["ingest"] == ["ingest"]
    assert commands["parser"] == ["parser"]
    assert commands["shipper-es"] == ["shipper", "es"]
    assert commands["shipper-s3"] == ["shipper", "s3"]


# -- safe by default --------------------------------------------------------------------


def test_every_container_has_requests_and_limits(rendered: list[dict[str, Any]]) -> None:
    for workload in workloads(rendered):
        for container in containers(workload):
            resources = container.get("resources", {})
            where = f"{workload['metadata']['name']}/{container['name']}"
            assert {"cpu", "memory"} <= set(resources.get("requests", {})), where
            assert {"cpu", "memory"} <= set(resources.get("limits", {})), where


def test_every_container_is_locked_down(rendered: list[dict[str, Any]]) -> None:
    for workload in workloads(rendered):
        pod = pod_spec(workload)
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] > 0
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        assert pod["automountServiceAccountToken"] is False
        for container in containers(workload):
            context = container["securityContext"]
            where = f"{workload['metadata']['name']}/{container['name']}"
            assert context["runAsNonRoot"] is True, where
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["capabilities"]["drop"] == ["ALL"], where
            assert "add" not in context["capabilities"], where


def test_project_pods_run_as_the_images_user(rendered: list[dict[str, Any]]) -> None:
    from .test_dockerfile import final_stage_user

    uid = int(final_stage_user().split(":")[0])
    for workload in workloads(rendered):
        if any("logagg" in c["image"] for c in containers(workload)):
            assert pod_spec(workload)["securityContext"]["runAsUser"] == uid


def test_writable_scratch_space_is_mounted_where_python_needs_it(
    rendered: list[dict[str, Any]],
) -> None:
    # read-only root: tempfile and gunicorn's metrics directory need a writable /tmp
    for workload in workloads(rendered):
        for container in containers(workload):
            if "logagg" in container["image"]:
                mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
                assert "/tmp" in mounts, workload["metadata"]["name"]


# -- ingest -----------------------------------------------------------------------------


def test_ingest_probes_and_port(rendered: list[dict[str, Any]]) -> None:
    ingest = find(rendered, "Deployment", "ingest")
    gunicorn, proxy = pod_spec(ingest)["containers"]
    assert (gunicorn["name"], proxy["name"]) == ("ingest", "proxy")
    # gunicorn serves on loopback only, behind the proxy; the pod's port is nginx's
    assert "ports" not in gunicorn
    env = env_of(gunicorn, rendered)
    assert (env["LOGAGG_INGEST_HOST"], env["LOGAGG_INGEST_PORT"]) == ("127.0.0.1", "3002")
    assert env["LOGAGG_TRUSTED_PROXIES"] == "127.0.0.1/32"
    ports = {p["name"]: p["containerPort"] for p in proxy["ports"]}
    assert ports == {"http": 3001}
    assert proxy["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert proxy["livenessProbe"]["tcpSocket"] == {"port": "http"}
    healthcheck = ["python", "/app/healthcheck.py", "ingest"]
    assert gunicorn["livenessProbe"]["exec"]["command"] == healthcheck
    startup = gunicorn["startupProbe"]
    assert startup["exec"]["command"] == healthcheck
    # gunicorn waits up to 60 s for Redis before serving
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 60


def test_ingest_proxy_serves_the_shipped_config(rendered: list[dict[str, Any]]) -> None:
    ingest = find(rendered, "Deployment", "ingest")
    _, proxy = pod_spec(ingest)["containers"]
    assert proxy["image"].startswith("nginxinc/nginx-unprivileged:")
    mounts = {m["name"]: m["mountPath"] for m in proxy["volumeMounts"]}
    assert mounts["proxy-conf"] == "/etc/nginx/conf.d"
    assert mounts["proxy-tmp"] == "/tmp"
    (volume,) = [v for v in pod_spec(ingest)["volumes"] if v["name"] == "proxy-conf"]
    config = find(rendered, "ConfigMap", volume["configMap"]["name"])
    assert volume["configMap"]["items"] == [{"key": "ingest-proxy.conf", "path": "default.conf"}]
    shipped = (KUBE / "base" / "ingest-proxy.conf").read_text()
    assert config["data"]["ingest-proxy.conf"] == shipped
    # what the proxy test starts nginx with: the listen and upstream ports of the manifests
    assert "listen 3001;" in shipped
    assert "server 127.0.0.1:3002;" in shipped
    for deadline in ("client_header_timeout 10s;", "client_body_timeout 10s;"):
        assert deadline in shipped
    assert "limit_conn logagg_per_address" in shipped


def test_ingest_service_keeps_the_original_name(rendered: list[dict[str, Any]]) -> None:
    service = find(rendered, "Service", "log-aggregator-service")
    ingest = find(rendered, "Deployment", "ingest")
    assert selects(service["spec"]["selector"], ingest["spec"]["template"]["metadata"]["labels"])
    (port,) = service["spec"]["ports"]
    assert port["port"] == 3001
    assert port["targetPort"] == "http"


def test_ingest_scales_on_cpu_and_keeps_a_pod_through_disruptions(
    rendered: list[dict[str, Any]],
) -> None:
    ingest = find(rendered, "Deployment", "ingest")
    assert "replicas" not in ingest["spec"], "the autoscaler owns the replica count"
    hpa = find(rendered, "HorizontalPodAutoscaler", "ingest")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "ingest",
    }
    assert hpa["spec"]["minReplicas"] >= 2
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    pdb = find(rendered, "PodDisruptionBudget", "ingest")
    labels = ingest["spec"]["template"]["metadata"]["labels"]
    assert selects(pdb["spec"]["selector"]["matchLabels"], labels)
    assert pdb["spec"]["minAvailable"] < hpa["spec"]["minReplicas"]


# -- workers and KEDA -------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(WORKERS))
def test_worker_scales_on_its_rq_queue(rendered: list[dict[str, Any]], name: str) -> None:
    queue, _ = WORKERS[name]
    worker = find(rendered, "Deployment", name)
    assert "replicas" not in worker["spec"], "KEDA owns the replica count"
    scaled = find(rendered, "ScaledObject", name)
    assert scaled["spec"]["scaleTargetRef"]["name"] == name
    assert scaled["spec"]["minReplicaCount"] >= 1
    assert scaled["spec"]["maxReplicaCount"] > scaled["spec"]["minReplicaCount"]
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "redis"
    assert trigger["metadata"]["listName"] == queue_key(queue)
    assert int(trigger["metadata"]["listLength"]) > 0


def test_keda_reaches_the_redis_the_workers_use(rendered: list[dict[str, Any]]) -> None:
    redis_service = find(rendered, "Service", "redis")
    (port,) = redis_service["spec"]["ports"]
    namespace = redis_service["metadata"]["namespace"]
    for name in WORKERS:
        (trigger,) = find(rendered, "ScaledObject", name)["spec"]["triggers"]
        # KEDA's operator runs in its own namespace: the address must name ours
        assert trigger["metadata"]["address"] == (
            f"redis.{namespace}.svc.cluster.local:{port['port']}"
        )
        (container,) = pod_spec(find(rendered, "Deployment", name))["containers"]
        redis_url = env_of(container, rendered)["REDIS_URL"]
        assert redis_url == (
            f"redis://:$(REDIS_PASSWORD)@redis:{port['port']}/"
            f"{trigger['metadata']['databaseIndex']}"
        )
        # KEDA authenticates with the password Redis requires
        authentication = find(
            rendered, "TriggerAuthentication", trigger["authenticationRef"]["name"]
        )
        (target,) = authentication["spec"]["secretTargetRef"]
        assert (target["parameter"], target["name"], target["key"]) == (
            "password", "logagg-redis", "REDIS_PASSWORD"
        )  # fmt: skip


@pytest.mark.parametrize("name", sorted(WORKERS))
def test_worker_outlives_its_job_timeout_when_stopped(
    rendered: list[dict[str, Any]], name: str
) -> None:
    _, job = WORKERS[name]
    pod = pod_spec(find(rendered, "Deployment", name))
    assert pod["terminationGracePeriodSeconds"] > job.timeout
    (container,) = pod["containers"]
    assert container["livenessProbe"]["exec"]["command"] == [
        "python",
        "/app/healthcheck.py",
        "worker",
    ]


# -- Redis ------------------------------------------------------------------------------


def test_redis_persists_with_aof_on_a_volume(rendered: list[dict[str, Any]]) -> None:
    redis = find(rendered, "StatefulSet", "redis")
    (container,) = pod_spec(redis)["containers"]
    args = container["args"]
    assert args[args.index("--appendonly") + 1] == "yes"
    assert args[args.index("--dir") + 1] == "/data"
    assert args[args.index("--maxmemory-policy") + 1] == "noeviction"
    (claim,) = redis["spec"]["volumeClaimTemplates"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts[claim["metadata"]["name"]] == "/data"
    assert redis["spec"]["serviceName"] == "redis"
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["exec"]["command"] == ["redis-cli", "ping"]


def test_redis_requires_the_password_every_client_is_given(rendered: list[dict[str, Any]]) -> None:
    redis = find(rendered, "StatefulSet", "redis")
    (container,) = pod_spec(redis)["containers"]
    args = container["args"]
    assert args[args.index("--requirepass") + 1] == "$(REDIS_PASSWORD)"
    assert "--protected-mode" not in args
    env = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"]}
    secret = {"name": "logagg-redis", "key": "REDIS_PASSWORD"}
    # the probes' redis-cli authenticates too
    assert env == {"REDIS_PASSWORD": secret, "REDISCLI_AUTH": secret}
    clients = 0
    for workload in workloads(rendered):
        for client in containers(workload):
            entries = [e["name"] for e in client.get("env", [])]
            client_env = env_of(client, rendered)
            if "REDIS_URL" not in client_env:
                continue
            clients += 1
            assert client_env["REDIS_URL"].startswith("redis://:$(REDIS_PASSWORD)@")
            # Kubernetes expands $(VAR) only from variables defined before it
            assert entries.index("REDIS_PASSWORD") < entries.index("REDIS_URL")
            assert client_env["REDIS_PASSWORD"] == {"secretKeyRef": secret}
    assert clients >= 5


def test_only_the_projects_pods_reach_redis(rendered: list[dict[str, Any]]) -> None:
    policy = find(rendered, "NetworkPolicy", "redis")
    redis = find(rendered, "StatefulSet", "redis")
    assert selects(
        policy["spec"]["podSelector"]["matchLabels"],
        redis["spec"]["template"]["metadata"]["labels"],
    )
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    (rule,) = policy["spec"]["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 6379}]
    same_namespace = [p for p in rule["from"] if "namespaceSelector" not in p]
    assert [p["podSelector"]["matchLabels"] for p in same_namespace] == [{PART_OF: "logagg"}]
    keda = [p for p in rule["from"] if "namespaceSelector" in p]
    assert len(keda) == 1
    assert keda[0]["podSelector"], "only KEDA's operator, not all of its namespace"
    # every pod that is given REDIS_URL carries the label the policy admits
    for workload in workloads(rendered):
        labels = workload["spec"]["template"]["metadata"]["labels"]
        for container in containers(workload):
            if "REDIS_URL" in env_of(container, rendered):
                assert labels.get(PART_OF) == "logagg", workload["metadata"]["name"]


# -- Elasticsearch and Kibana through ECK -----------------------------------------------


def test_shipper_uses_the_credentials_and_ca_eck_generates(rendered: list[dict[str, Any]]) -> None:
    (elasticsearch,) = of_kind(rendered, "Elasticsearch")
    (kibana,) = of_kind(rendered, "Kibana")
    es_name = elasticsearch["metadata"]["name"]
    assert kibana["spec"]["elasticsearchRef"]["name"] == es_name
    for name in ("shipper-es", "logagg-setup"):
        kind = "Job" if name == "logagg-setup" else "Deployment"
        workload = find(rendered, kind, name)
        (container,) = pod_spec(workload)["containers"]
        env = env_of(container, rendered)
        assert env["ELASTICSEARCH_URL"] == f"https://{es_name}-es-http:9200"
        assert env["ELASTICSEARCH_USERNAME"] == "elastic"
        assert env["ELASTICSEARCH_PASSWORD"] == {
            "secretKeyRef": {"name": f"{es_name}-es-elastic-user", "key": "elastic"}
        }
        assert env["LOGAGG_ES_VERIFY_CERTS"] == "true"
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod_spec(workload)["volumes"]}
        ca_volume = next(n for n, v in volumes.items() if "secret" in v and "-es-" in n + str(v))
        assert volumes[ca_volume]["secret"]["secretName"] == f"{es_name}-es-http-certs-public"
        assert env["ELASTICSEARCH_CA_CERTS"] == f"{mounts[ca_volume]}/ca.crt"


def test_setup_job_installs_templates_then_kibana_objects(rendered: list[dict[str, Any]]) -> None:
    job = find(rendered, "Job", "logagg-setup")
    (kibana,) = of_kind(rendered, "Kibana")
    (container,) = pod_spec(job)["containers"]
    script = " ".join(container["args"])
    assert script.index("logagg shipper install-templates") < script.index("logagg kibana import")
    env = env_of(container, rendered)
    assert env["KIBANA_URL"] == f"https://{kibana['metadata']['name']}-kb-http:5601"
    volumes = {v["name"]: v for v in pod_spec(job)["volumes"]}
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    kibana_ca = f"{kibana['metadata']['name']}-kb-http-certs-public"
    (name,) = [n for n, v in volumes.items() if v.get("secret", {}).get("secretName") == kibana_ca]
    assert env["KIBANA_CA_CERTS"] == f"{mounts[name]}/ca.crt"
    assert pod_spec(job)["restartPolicy"] == "OnFailure"


def test_every_configured_variable_is_one_the_code_reads(rendered: list[dict[str, Any]]) -> None:
    sources = "\n".join(
        path.read_text()
        for path in (Path(__file__).resolve().parents[2]).glob("s*/**/logagg/**/*.py")
    )
    for config in of_kind(rendered, "ConfigMap"):
        if config["metadata"]["name"].startswith("ingest-proxy-"):
            continue  # a file nginx reads, not variables
        for name in config["data"]:
            assert f'"{name}"' in sources, f"{name} is read by no module"


# -- the optional RQ dashboard component --------------------------------------------------


def test_the_dashboard_is_an_optional_component_the_example_overlay_uses(
    base: list[dict[str, Any]], overlay: list[dict[str, Any]]
) -> None:
    assert [o for o in base if o["metadata"]["name"] == "rq-dashboard"] == []
    component = yaml.safe_load(
        (KUBE / "components" / "rq-dashboard" / "kustomization.yaml").read_text()
    )
    assert component["kind"] == "Component"
    example = yaml.safe_load((KUBE / "overlays" / "example" / "kustomization.yaml").read_text())
    assert "../../components/rq-dashboard" in example["components"]
    assert find(overlay, "Deployment", "rq-dashboard")
    assert find(overlay, "Service", "rq-dashboard")


def test_the_dashboard_serves_on_its_port_with_probes_and_credentials(
    overlay: list[dict[str, Any]],
) -> None:
    deployment = find(overlay, "Deployment", "rq-dashboard")
    service = find(overlay, "Service", "rq-dashboard")
    redis_service = find(overlay, "Service", "redis")
    for obj in (deployment, service):
        assert obj["metadata"]["namespace"] == redis_service["metadata"]["namespace"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert labels[PART_OF] == "logagg", "the Redis NetworkPolicy admits part-of logagg only"
    assert selects(service["spec"]["selector"], labels)
    assert service["spec"].get("type", "ClusterIP") == "ClusterIP"
    (container,) = pod_spec(deployment)["containers"]
    assert container["args"] == ["dashboard"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    env = env_of(container, overlay)
    assert ports == {"http": int(env["LOGAGG_DASHBOARD_PORT"])}
    assert env["LOGAGG_DASHBOARD_HOST"] == "0.0.0.0"
    assert env["REDIS_URL"] == "redis://:$(REDIS_PASSWORD)@redis:6379/0"
    for name in ("LOGAGG_DASHBOARD_USERNAME", "LOGAGG_DASHBOARD_PASSWORD"):
        assert env[name] == {"secretKeyRef": {"name": "logagg-dashboard", "key": name}}
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "http"}
    (port,) = service["spec"]["ports"]
    assert port["targetPort"] == "http"
