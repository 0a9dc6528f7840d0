"""Logs in one searchable place: the stack's Managed OpenSearch (with OpenSearch Dashboards,
Kibana's role) and, on every cluster, fluent-bit shipping container logs and Kubernetes
events to it over TLS.

Why OpenSearch rather than Loki on Spaces (DigitalOcean's own DOKS reference architecture):
a managed store with a search UI, TLS, users and a firewall built in, versus a Loki of our
own to run in one cluster, expose across regions and secure; see docs/observability.md.

The store lives in the hub region, in its VPC. The hub's clusters write to its private
host; the other regions to its public host over TLS (DigitalOcean's private hosts answer
within one region only). Its firewall admits the stack's clusters and the operators'
networks (for Dashboards) and nothing else. fluent-bit authenticates as a user of its own
whose password stays a secret from the provider to the cluster (a Kubernetes Secret read
into an environment variable), and checks the store's certificate against the cluster's CA.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

import pulumi
import pulumi_digitalocean as digitalocean
import pulumi_kubernetes as kubernetes
import yaml

from components import log_retention
from components.cluster import RegionalCluster
from components.namespaces import LOGGING_NAMESPACE, MONITORING_NAMESPACE, PROMETHEUS_POD_LABELS, declare_namespace
from components.network_policies import default_deny, dns_egress, pods_in, tcp
from components.pod_security import hardened_container, hardened_pod
from components.settings.stack import StackSettings

meta = kubernetes.meta.v1
core = kubernetes.core.v1
networking = kubernetes.networking.v1

FLUENT_BIT_CHART = "fluent-bit"
FLUENT_BIT_REPO = "https://fluent.github.io/helm-charts"
FLUENT_BIT_VERSION = "0.58.1"
# The chart mounts its ConfigMap here; extraFiles land beside the file it generates.
CONFIG_DIR = "/fluent-bit/etc/conf"
CONFIG_FILE = "fluent-bit.yaml"
CA_DIR = "/fluent-bit/tls"
CA_KEY = "ca.crt"
HTTP_PORT = 2020
# Managed databases listen on 25060 (digitalocean/openapi databases opensearch_connection.yml).
STORE_PORT = 25060
# fluent-bit's index prefixes; the shipper's ACL and the retention policy cover all of them.
CONTAINER_INDEX = f"{log_retention.INDEX_PREFIX}containers"
EVENTS_INDEX = f"{log_retention.INDEX_PREFIX}events"
# A regular expression: the prefix has no character special to one.
SHIPPER_INDEX_REGEX = f"{log_retention.INDEX_PREFIX}.*"
CREDENTIALS_SECRET = "log-store-credentials"
RETENTION_IMAGE = "python:3.13.1-alpine3.21"
RETENTION_DIR = "/opt/log-retention"
CREDENTIALS_DIR = "/var/run/secrets/opensearch"


def pipeline(*, region: str, cluster: str, stack: str, host: str, port: int, events: bool) -> dict[str, Any]:
    """fluent-bit's configuration (YAML format) for container logs (a DaemonSet: every node's
    files) or Kubernetes events (one replica: each event once per cluster, not once per
    node). A data structure, dumped with a YAML library: no value is pasted into text."""
    if events:
        inputs = [{"name": "kubernetes_events", "tag": "events", "kube_url": "https://kubernetes.default.svc"}]
        filters: list[dict[str, Any]] = []
        index = EVENTS_INDEX
        storage = {}
    else:
        inputs = [
            {
                "name": "tail",
                "tag": "kube.*",
                "path": "/var/log/containers/*.log",
                "multiline.parser": "docker, cri",
                # Where each file was read up to, so a restarted pod neither skips nor repeats.
                "db": "/var/log/fluent-bit-containers.db",
                "mem_buf_limit": "50MB",
                "skip_long_lines": "on",
                "storage.type": "filesystem",
            }
        ]
        filters = [
            {
                "name": "kubernetes",
                "match": "kube.*",
                "merge_log": "on",
                "keep_log": "off",
                "k8s-logging.parser": "on",
                "k8s-logging.exclude": "on",
            }
        ]
        index = CONTAINER_INDEX
        # While the store is unreachable, chunks wait on the node's disk instead of memory.
        storage = {"storage.path": "/var/log/fluent-bit-storage/", "storage.backlog.mem_limit": "16M"}
    # Every region ships to one store: each record says where it came from.
    filters.append({"name": "modify", "match": "*", "add": [f"region {region}", f"cluster {cluster}", f"stack {stack}"]})
    output = {
        "name": "opensearch",
        "match": "*",
        "host": host,
        "port": port,
        "http_user": "${OPENSEARCH_USER}",
        "http_passwd": "${OPENSEARCH_PASSWORD}",
        "tls": "on",
        "tls.verify": "on",
        "tls.ca_file": f"{CA_DIR}/{CA_KEY}",
        "logstash_format": "on",
        "logstash_prefix": index,
        "logstash_dateformat": "%Y.%m.%d",
        # OpenSearch 2 has no mapping types; dotted keys (Kubernetes labels) would clash.
        "suppress_type_name": "on",
        "replace_dots": "on",
        # A retried batch does not duplicate records.
        "generate_id": "on",
        "trace_error": "on",
        "retry_limit": 10,
        **({"storage.total_limit_size": "512M"} if not events else {}),
    }
    return {
        "service": {
            "flush": 1,
            "log_level": "info",
            "http_server": "on",
            "http_listen": "0.0.0.0",
            "http_port": HTTP_PORT,
            "health_check": "on",
            "parsers_file": "/fluent-bit/etc/parsers.conf",
            **storage,
        },
        "pipeline": {"inputs": inputs, "filters": filters, "outputs": [output]},
    }


def _config(host: str, *, region: str, cluster: str, stack: str, events: bool) -> str:
    return render_pipeline(pipeline(region=region, cluster=cluster, stack=stack, host=host, port=STORE_PORT, events=events))


def render_pipeline(config: dict[str, Any]) -> str:
    text = yaml.safe_dump(config, sort_keys=False)
    # The chart passes every extra file through Helm's `tpl`: "{{" would be executed.
    if "{{" in text:
        raise ValueError("fluent-bit configuration contains '{{', which Helm would template")
    return text


def fluent_bit_values(config: pulumi.Input[str], *, events: bool) -> dict[str, Any]:
    secret_env = [
        {"name": variable, "valueFrom": {"secretKeyRef": {"name": CREDENTIALS_SECRET, "key": key}}}
        for variable, key in (("OPENSEARCH_USER", "username"), ("OPENSEARCH_PASSWORD", "password"))
    ]
    values: dict[str, Any] = {
        "kind": "Deployment" if events else "DaemonSet",
        "replicaCount": 1,
        # The chart's connection test pod runs busybox:latest.
        "testFramework": {"enabled": False},
        "rbac": {"create": True, "eventsAccess": events},
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}},
        "args": ["--workdir=/fluent-bit/etc", f"--config={CONFIG_DIR}/{CONFIG_FILE}"],
        "config": {"extraFiles": {CONFIG_FILE: config}},
        "env": secret_env,
        # The CA only: the credentials reach the process as environment variables.
        "extraVolumes": [
            {"name": "log-store-ca", "secret": {"secretName": CREDENTIALS_SECRET, "items": [{"key": CA_KEY, "path": CA_KEY}]}}
        ],
        "extraVolumeMounts": [{"name": "log-store-ca", "mountPath": CA_DIR, "readOnly": True}],
    }
    if events:
        # Reads the API only, no node paths: hardened like every pod of ours. Chart values
        # are the objects' API spelling, which the SDK writes for these typed arguments.
        values["podSecurityContext"] = hardened_pod()
        values["securityContext"] = hardened_container()
    return values


def _maintenance(settings: StackSettings) -> digitalocean.DatabaseClusterMaintenanceWindowArgs:
    # Databases take a weekday (openapi database_maintenance_window.yml); "any" clusters get Sunday.
    window = settings.cluster.maintenance
    return digitalocean.DatabaseClusterMaintenanceWindowArgs(
        day="sunday" if window.day == "any" else window.day, hour=window.start_time
    )


class LogStore(pulumi.ComponentResource):
    """The stack's OpenSearch cluster, its firewall, the shippers' user and its settings."""

    def __init__(
        self,
        name: str,
        settings: StackSettings,
        *,
        vpc: digitalocean.Vpc,
        clusters: Mapping[str, RegionalCluster],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("marketplace:index:LogStore", name, None, opts)
        store = settings.monitoring.log_store
        child = pulumi.ResourceOptions(parent=self)
        self.database = digitalocean.DatabaseCluster(
            f"{name}-opensearch",
            # Name, engine and network are ForceNew (terraform-provider-digitalocean
            # resource_database_cluster.go): changing one replaces the store and its logs.
            name=f"{settings.name_prefix}-logs",
            engine="opensearch",
            version=store.version,
            size=store.size,
            node_count=store.node_count,
            region=settings.monitoring.hub_region,
            private_network_uuid=vpc.id,
            maintenance_windows=[_maintenance(settings)],
            tags=[*settings.tags, f"{settings.project}-logs"],
            # DigitalOcean has no deletion protection for databases: Pulumi's is the guard.
            opts=pulumi.ResourceOptions(parent=self, protect=settings.kind == "production"),
        )
        # One resource owns the whole rule set (the API replaces it on every change).
        self.firewall = digitalocean.DatabaseFirewall(
            f"{name}-firewall",
            cluster_id=self.database.id,
            rules=[
                *(digitalocean.DatabaseFirewallRuleArgs(type="k8s", value=clusters[c].cluster.id) for c in sorted(clusters)),
                *(digitalocean.DatabaseFirewallRuleArgs(type="ip_addr", value=n) for n in store.operator_networks),
            ],
            opts=child,
        )
        self.shipper = digitalocean.DatabaseUser(
            f"{name}-shipper",
            cluster_id=self.database.id,
            # Unique in the account like every physical name, though DigitalOcean scopes it
            # to the database.
            name=f"{settings.name_prefix}-log-shipper",
            settings=[
                digitalocean.DatabaseUserSettingArgs(
                    opensearch_acls=[
                        digitalocean.DatabaseUserSettingOpensearchAclArgs(index=SHIPPER_INDEX_REGEX, permission="readwrite")
                    ]
                )
            ],
            opts=child,
        )
        self.config = digitalocean.DatabaseOpensearchConfig(
            f"{name}-config",
            cluster_id=self.database.id,
            # What shipping and retention rely on, stated rather than assumed as defaults.
            ism_enabled=True,
            action_auto_create_index_enabled=True,
            ism_history_enabled=True,
            ism_history_rollover_retention_period_days=store.retention_days,
            opts=child,
        )
        self.ca_certificate = digitalocean.get_database_ca_output(cluster_id=self.database.id).certificate
        self.register_outputs(
            {"host": self.database.host, "dashboards": self.database.ui_host, "retentionDays": store.retention_days}
        )


class LogShipping(pulumi.ComponentResource):
    """fluent-bit on one cluster: container logs from every node, events once; on the hub,
    also the Job that applies the store's retention."""

    def __init__(
        self,
        name: str,
        settings: StackSettings,
        *,
        region: str,
        cluster_name: str,
        cluster: RegionalCluster,
        store: LogStore,
        hub: bool,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("marketplace:index:LogShipping", name, None, opts)
        on_cluster = pulumi.ResourceOptions(parent=self, provider=cluster.provider)
        # fluent-bit reads the node's log files (host paths): it cannot run under the baseline
        # or restricted profiles.
        namespace = declare_namespace(f"{name}-namespace", LOGGING_NAMESPACE, on_cluster, enforce="privileged")
        in_namespace = pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=[namespace]))
        _network_policies(name, in_namespace)
        # What a shipper needs to reach the store: its login, and the CA the store's
        # certificate is checked against.
        credentials = core.Secret(
            f"{name}-credentials",
            metadata=meta.ObjectMetaArgs(name=CREDENTIALS_SECRET, namespace=LOGGING_NAMESPACE),
            type="Opaque",
            string_data={"username": store.shipper.name, "password": store.shipper.password, CA_KEY: store.ca_certificate},
            opts=in_namespace,
        )
        # DigitalOcean's private host answers only inside the store's region.
        host = store.database.private_host if region == settings.monitoring.hub_region else store.database.host
        ready = pulumi.ResourceOptions.merge(in_namespace, pulumi.ResourceOptions(depends_on=[credentials, store.firewall]))
        self.releases: dict[str, kubernetes.helm.v3.Release] = {}
        for events, release in ((False, "fluent-bit"), (True, "fluent-bit-events")):
            config = host.apply(partial(_config, region=region, cluster=cluster_name, stack=settings.stack, events=events))
            self.releases[release] = kubernetes.helm.v3.Release(
                f"{name}-{release}",
                kubernetes.helm.v3.ReleaseArgs(
                    name=release,
                    chart=FLUENT_BIT_CHART,
                    version=FLUENT_BIT_VERSION,
                    repository_opts=kubernetes.helm.v3.RepositoryOptsArgs(repo=FLUENT_BIT_REPO),
                    namespace=LOGGING_NAMESPACE,
                    cleanup_on_fail=True,
                    max_history=10,
                    values=fluent_bit_values(config, events=events),
                ),
                opts=ready,
            )
        if hub:
            self.retention = _retention_job(name, settings, store, credentials, ready)
        self.register_outputs({"store": host.apply(lambda address: f"{address}:{STORE_PORT}")})


def _network_policies(name: str, opts: pulumi.ResourceOptions) -> None:
    """Nothing reaches the shippers but Prometheus (their metrics port); they reach DNS, the
    Kubernetes API and the store, nothing else."""
    api_and_store = networking.NetworkPolicyEgressRuleArgs(
        # The API server of a DOKS cluster and the store's public host have public addresses;
        # the hub's shippers reach the store's private host in the VPC.
        to=[networking.NetworkPolicyPeerArgs(ip_block=networking.IPBlockArgs(cidr="0.0.0.0/0"))],
        ports=tcp(443, 6443, STORE_PORT),
    )
    default_deny(f"{name}-default-deny", name="logging-default-deny", namespace=LOGGING_NAMESPACE, opts=opts)
    networking.NetworkPolicy(
        f"{name}-shippers",
        metadata=meta.ObjectMetaArgs(name="log-shippers", namespace=LOGGING_NAMESPACE),
        spec=networking.NetworkPolicySpecArgs(
            pod_selector=meta.LabelSelectorArgs(),
            policy_types=["Ingress", "Egress"],
            ingress=[
                networking.NetworkPolicyIngressRuleArgs(
                    from_=[pods_in(MONITORING_NAMESPACE, PROMETHEUS_POD_LABELS)], ports=tcp(HTTP_PORT)
                )
            ],
            egress=[dns_egress(), api_and_store],
        ),
        opts=opts,
    )


def _retention_job(
    name: str, settings: StackSettings, store: LogStore, shippers: core.Secret, opts: pulumi.ResourceOptions
) -> kubernetes.batch.v1.Job:
    """Applies the retention policy (components/log_retention.py) from inside the store's
    firewall; re-run (replaced) whenever the policy or the script changes."""
    policy = log_retention.retention_policy(settings.monitoring.log_store.retention_days)
    script = core.ConfigMap(
        f"{name}-retention-script",
        metadata=meta.ObjectMetaArgs(namespace=LOGGING_NAMESPACE),
        data={
            "log_retention.py": Path(log_retention.__file__).read_text(encoding="utf-8"),
            "policy.json": json.dumps(policy, indent=2, sort_keys=True),
        },
        opts=opts,
    )
    admin = core.Secret(
        f"{name}-retention-credentials",
        metadata=meta.ObjectMetaArgs(namespace=LOGGING_NAMESPACE),
        type="Opaque",
        # Policies are cluster settings: only the store's admin user may write them.
        string_data={"username": store.database.user, "password": store.database.password},
        opts=opts,
    )
    env = [
        core.EnvVarArgs(
            name="OPENSEARCH_URL", value=store.database.private_host.apply(lambda host: f"https://{host}:{STORE_PORT}")
        ),
        core.EnvVarArgs(name="OPENSEARCH_CA_FILE", value=f"{CA_DIR}/{CA_KEY}"),
        core.EnvVarArgs(name="POLICY_FILE", value=f"{RETENTION_DIR}/policy.json"),
        core.EnvVarArgs(name="OPENSEARCH_CREDENTIALS_DIR", value=CREDENTIALS_DIR),
    ]
    return kubernetes.batch.v1.Job(
        f"{name}-retention",
        metadata=meta.ObjectMetaArgs(namespace=LOGGING_NAMESPACE, labels={"app.kubernetes.io/name": "log-retention"}),
        spec=kubernetes.batch.v1.JobSpecArgs(
            backoff_limit=6,
            active_deadline_seconds=900,
            template=core.PodTemplateSpecArgs(
                metadata=meta.ObjectMetaArgs(labels={"app.kubernetes.io/name": "log-retention"}),
                spec=core.PodSpecArgs(
                    restart_policy="Never",
                    automount_service_account_token=False,
                    security_context=hardened_pod(),
                    containers=[
                        core.ContainerArgs(
                            name="apply-retention",
                            image=RETENTION_IMAGE,
                            command=["python", f"{RETENTION_DIR}/log_retention.py"],
                            env=env,
                            resources=core.ResourceRequirementsArgs(
                                requests={"cpu": "10m", "memory": "32Mi"}, limits={"cpu": "200m", "memory": "64Mi"}
                            ),
                            security_context=hardened_container(),
                            volume_mounts=[
                                core.VolumeMountArgs(name="script", mount_path=RETENTION_DIR, read_only=True),
                                core.VolumeMountArgs(name="ca", mount_path=CA_DIR, read_only=True),
                                core.VolumeMountArgs(name="credentials", mount_path=CREDENTIALS_DIR, read_only=True),
                            ],
                        )
                    ],
                    volumes=[
                        core.VolumeArgs(name="script", config_map=core.ConfigMapVolumeSourceArgs(name=script.metadata.name)),
                        core.VolumeArgs(
                            name="ca",
                            secret=core.SecretVolumeSourceArgs(
                                secret_name=shippers.metadata.name, items=[core.KeyToPathArgs(key=CA_KEY, path=CA_KEY)]
                            ),
                        ),
                        core.VolumeArgs(
                            name="credentials",
                            secret=core.SecretVolumeSourceArgs(secret_name=admin.metadata.name, default_mode=0o400),
                        ),
                    ],
                ),
            ),
        ),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[store.config])),
    )
