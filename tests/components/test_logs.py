"""Logs in one searchable place: the stack's OpenSearch, its firewall and user, and
fluent-bit on every cluster shipping container logs (every node) and events (once)."""

from __future__ import annotations

import fnmatch
import json
import re
from typing import Any

import pytest
import yaml

from components.log_retention import POLICY_ID, retention_policy
from components.logs import (
    CREDENTIALS_SECRET,
    FLUENT_BIT_REPO,
    FLUENT_BIT_VERSION,
    HTTP_PORT,
    SHIPPER_INDEX_REGEX,
    STORE_PORT,
    pipeline,
    render_pipeline,
)
from components.namespaces import LOGGING_NAMESPACE, MONITORING_NAMESPACE, PROMETHEUS_POD_LABELS
from offline.engine import Plan, PlannedResource, SecretValue, reveal
from tests.conftest import plan_of
from tests.k8s_objects import metadata, objects, on_cluster, one, pod_spec, regions_of

DATABASE = "digitalocean:index/databaseCluster:DatabaseCluster"
FIREWALL = "digitalocean:index/databaseFirewall:DatabaseFirewall"
USER = "digitalocean:index/databaseUser:DatabaseUser"
OPENSEARCH_CONFIG = "digitalocean:index/databaseOpensearchConfig:DatabaseOpensearchConfig"


def store(plan: Plan) -> PlannedResource:
    return plan.one(DATABASE, "logs-opensearch")


def shippers(plan: Plan, region: str) -> dict[str, PlannedResource]:
    return {
        r.inputs["name"]: r
        for r in on_cluster(plan, region)
        if r.type == "kubernetes:helm.sh/v3:Release" and r.inputs["chart"] == "fluent-bit"
    }


def shipped_config(release: PlannedResource) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(release.inputs["values"]["config"]["extraFiles"]["fluent-bit.yaml"])
    return loaded


# stack -> (size, nodes, retention days, protected, maintenance day)
STORES = {"production": ("db-s-2vcpu-4gb", 3, 30, True, "sunday"), "staging": ("db-s-1vcpu-2gb", 1, 7, False, "saturday")}


@pytest.mark.parametrize("stack", STORES)
def test_one_store_per_stack_in_the_hub_region(stack: str) -> None:
    size, nodes, days, protected, day = STORES[stack]
    plan = plan_of(stack)
    [database] = plan.of_type(DATABASE)
    vpc = plan.one("digitalocean:index/vpc:Vpc", "nyc3-vpc")
    assert database.inputs["engine"] == "opensearch"
    assert (database.inputs["version"], database.inputs["size"], database.inputs["nodeCount"]) == ("2", size, nodes)
    assert (database.inputs["region"], database.inputs["privateNetworkUuid"]) == ("nyc3", vpc.id)
    assert database.inputs["name"] == f"mkt-{stack}-logs"
    # In the clusters' maintenance window.
    assert database.inputs["maintenanceWindows"] == [{"day": day, "hour": "04:00"}]
    # Production's logs survive `pulumi destroy` and a replacing change: the engine refuses.
    assert database.protect is protected
    config = plan.one(OPENSEARCH_CONFIG, "logs-config").inputs
    assert config["ismEnabled"] is True and config["ismHistoryRolloverRetentionPeriodDays"] == days


def test_the_store_admits_the_stacks_clusters_and_the_operators_only() -> None:
    plan = plan_of("production")
    firewall = plan.one(FIREWALL, "logs-firewall").inputs
    clusters = {c.id for c in plan.of_type("digitalocean:index/kubernetesCluster:KubernetesCluster")}
    assert firewall["clusterId"] == store(plan).id
    rules = firewall["rules"]
    assert {r["value"] for r in rules if r["type"] == "k8s"} == clusters and len(clusters) == 5
    assert [r for r in rules if r["type"] != "k8s"] == [{"type": "ip_addr", "value": "203.0.113.0/24"}]


def test_the_shippers_have_a_user_of_their_own_for_the_log_indices() -> None:
    user = plan_of("production").one(USER, "logs-shipper")
    assert user.inputs["name"] == "mkt-production-log-shipper"
    assert user.inputs["settings"] == [{"opensearchAcls": [{"index": SHIPPER_INDEX_REGEX, "permission": "readwrite"}]}]
    for index in ("logs-containers-2026.12.06", "logs-events-2026.12.06"):
        assert re.fullmatch(SHIPPER_INDEX_REGEX, index)


def test_retention_and_the_shippers_access_cover_every_index_fluent_bit_writes() -> None:
    plan = plan_of("production")
    [acl] = plan.one(USER, "logs-shipper").inputs["settings"][0]["opensearchAcls"]
    [template] = retention_policy(30)["policy"]["ism_template"]
    written = {shipped_config(r)["pipeline"]["outputs"][0]["logstash_prefix"] for r in shippers(plan, "sfo3").values()}
    assert written == {"logs-containers", "logs-events"}
    for prefix in written:
        index = f"{prefix}-2026.12.06"  # logstash_dateformat %Y.%m.%d
        assert re.fullmatch(acl["index"], index)
        assert any(fnmatch.fnmatchcase(index, pattern) for pattern in template["index_patterns"])
    # Nothing else of the store: the shippers cannot touch the security or ISM indices.
    assert not re.fullmatch(acl["index"], ".opendistro-ism-config")


def test_every_cluster_ships_container_logs_and_events_over_tls() -> None:
    plan = plan_of("production")
    database = store(plan)
    for region in regions_of(plan):
        releases = shippers(plan, region)
        assert releases.keys() == {"fluent-bit", "fluent-bit-events"}
        for name, release in releases.items():
            values = release.inputs["values"]
            assert (release.inputs["repositoryOpts"]["repo"], release.inputs["version"]) == (FLUENT_BIT_REPO, FLUENT_BIT_VERSION)
            assert release.inputs["namespace"] == LOGGING_NAMESPACE
            # The chart's classic configuration is ignored: fluent-bit reads the YAML file.
            assert values["args"] == ["--workdir=/fluent-bit/etc", "--config=/fluent-bit/etc/conf/fluent-bit.yaml"]
            config = shipped_config(release)
            [output] = config["pipeline"]["outputs"]
            # The hub's region reaches the store privately; the others over the internet, TLS verified.
            host = database.outputs["privateHost"] if region == "nyc3" else database.outputs["host"]
            assert (output["host"], output["port"]) == (host, STORE_PORT)
            assert (output["tls"], output["tls.verify"], output["tls.ca_file"]) == ("on", "on", "/fluent-bit/tls/ca.crt")
            assert (output["http_user"], output["http_passwd"]) == ("${OPENSEARCH_USER}", "${OPENSEARCH_PASSWORD}")
            [origin] = [f for f in config["pipeline"]["filters"] if f["name"] == "modify"]
            assert origin["add"] == [f"region {region}", f"cluster {region}", "stack production"]
            events = name == "fluent-bit-events"
            assert values["kind"] == ("Deployment" if events else "DaemonSet")
            assert values["rbac"]["eventsAccess"] is events
            assert [i["name"] for i in config["pipeline"]["inputs"]] == (["kubernetes_events"] if events else ["tail"])
            assert output["logstash_prefix"] == ("logs-events" if events else "logs-containers")
        # One replica reads the events: each is shipped once per cluster, not once per node.
        assert releases["fluent-bit-events"].inputs["values"]["replicaCount"] == 1


def test_the_shippers_credentials_stay_secret_end_to_end() -> None:
    plan = plan_of("staging")
    user = plan.one(USER, "logs-shipper")
    password = reveal(user.outputs["password"])
    assert isinstance(user.outputs["password"], SecretValue)
    for region in regions_of(plan):
        secret = one(plan, region, "Secret", CREDENTIALS_SECRET)
        assert isinstance(secret.inputs["stringData"], SecretValue)
        data = reveal(secret.inputs["stringData"])
        assert {key: data[key] for key in ("username", "password")} == {
            "username": "mkt-staging-log-shipper",
            "password": password,
        }
        assert data["ca.crt"].startswith("-----BEGIN CERTIFICATE-----")
        for release in shippers(plan, region).values():
            assert password not in str(reveal(release.inputs))
            env = release.inputs["values"]["env"]
            assert {e["valueFrom"]["secretKeyRef"]["name"] for e in env} == {CREDENTIALS_SECRET}
        # Shippers wait for the firewall to admit their cluster.
        assert plan.one(FIREWALL, "logs-firewall").urn in shippers(plan, region)["fluent-bit"].dependencies


def test_config_values_stay_values_whatever_they_contain() -> None:
    """The configuration is a data structure dumped by a YAML library: a hostile value (here
    a host name carrying a newline and a second output) stays one scalar."""
    hostile = "logs.example.com\n  outputs:\n    - name: http\n      host: attacker.example"
    config = yaml.safe_load(
        render_pipeline(pipeline(region="nyc3", cluster="nyc3", stack="dev", host=hostile, port=STORE_PORT, events=False))
    )
    assert config["pipeline"]["outputs"][0]["host"] == hostile
    assert len(config["pipeline"]["outputs"]) == 1
    with pytest.raises(ValueError, match="Helm would template"):
        render_pipeline(pipeline(region="nyc3", cluster="nyc3", stack="dev", host="{{ .Values }}", port=1, events=True))


def test_retention_is_applied_from_the_hub_by_a_hardened_job() -> None:
    plan = plan_of("production")
    [job] = objects(plan, "nyc3", "Job")
    assert all(objects(plan, region, "Job") == [] for region in ("sfo3", "fra1", "blr1", "sgp1"))
    pod = pod_spec(job)
    [container] = pod["containers"]
    script = next(c for c in objects(plan, "nyc3", "ConfigMap") if c.name == "nyc3-logs-retention-script")
    assert json.loads(script.inputs["data"]["policy.json"]) == retention_policy(30)
    assert "def apply(" in script.inputs["data"]["log_retention.py"]
    env = {e["name"]: e for e in container["env"]}
    assert env["OPENSEARCH_URL"]["value"] == f"https://{store(plan).outputs['privateHost']}:{STORE_PORT}"
    # The admin credentials arrive as files, readable by the job's user only.
    [volume] = [v for v in pod["volumes"] if v["name"] == "credentials"]
    assert volume["secret"]["defaultMode"] == 0o400
    assert {"name": "credentials", "mountPath": env["OPENSEARCH_CREDENTIALS_DIR"]["value"], "readOnly": True} in container[
        "volumeMounts"
    ]
    admin = one(plan, "nyc3", "Secret", volume["secret"]["secretName"])
    assert isinstance(admin.inputs["stringData"], SecretValue)
    assert set(reveal(admin.inputs["stringData"])) == {"username", "password"}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert POLICY_ID in script.inputs["data"]["log_retention.py"]
    # The logging namespace is closed by default; the shippers and the job reach DNS, the API and the store.
    policies = {
        metadata(p)["name"]: p for p in objects(plan, "nyc3", "NetworkPolicy") if metadata(p)["namespace"] == LOGGING_NAMESPACE
    }
    assert policies.keys() == {"logging-default-deny", "log-shippers"}
    ports = {p["port"] for rule in policies["log-shippers"].inputs["spec"]["egress"] for p in rule["ports"]}
    assert ports == {53, 443, 6443, STORE_PORT}
    # Prometheus's pods reach the shippers' metrics port; nothing else of the monitoring
    # namespace does (Grafana runs there too).
    prometheus = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": MONITORING_NAMESPACE}},
        "podSelector": {"matchLabels": PROMETHEUS_POD_LABELS},
    }
    assert policies["log-shippers"].inputs["spec"]["ingress"] == [
        {"from": [prometheus], "ports": [{"protocol": "TCP", "port": HTTP_PORT}]}
    ]


def test_dev_stacks_have_no_store_unless_they_ask_for_the_smallest_one() -> None:
    for stack in ("dev", "dev-alice"):
        plan = plan_of(stack)
        assert plan.of_type(DATABASE) == [] and shippers(plan, "nyc3") == {}
    plan = plan_of("dev", overrides={"marketplace:logStore": {"enabled": True}})
    database = store(plan)
    assert (database.inputs["size"], database.inputs["nodeCount"], database.protect) == ("db-s-1vcpu-2gb", 1, False)
    assert shippers(plan, "nyc3").keys() == {"fluent-bit", "fluent-bit-events"}
    # Logs without metrics: no Prometheus is needed to ship them.
    assert [r for r in on_cluster(plan, "nyc3") if r.inputs.get("chart") == "kube-prometheus-stack"] == []
