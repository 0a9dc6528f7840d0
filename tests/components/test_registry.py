"""The account's registry: declared once (staging), protected, every cluster given access
before it is created; a pull secret for images elsewhere reaches the pods, secret."""

from __future__ import annotations

from offline.engine import SecretValue, reveal
from tests.conftest import plan_of

REGISTRY = "digitalocean:index/containerRegistry:ContainerRegistry"
CLUSTER = "digitalocean:index/kubernetesCluster:KubernetesCluster"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SECRET = "kubernetes:core/v1:Secret"


def test_staging_declares_the_registry_protected_and_its_clusters_wait_for_it():
    plan = plan_of("staging")
    (registry,) = plan.of_type(REGISTRY)
    assert registry.inputs == {"name": "marketplace", "subscriptionTierSlug": "basic", "region": "nyc3"}
    assert registry.protect and registry.retain_on_delete
    for cluster in plan.of_type(CLUSTER):
        assert cluster.inputs["registryIntegration"] is True
        assert registry.urn in cluster.dependencies, cluster.name


def test_other_stacks_use_the_registry_without_declaring_it():
    for stack in ("production", "dev", "dev-alice"):
        plan = plan_of(stack)
        assert plan.of_type(REGISTRY) == [], stack
        assert all(c.inputs["registryIntegration"] is True for c in plan.of_type(CLUSTER))


def test_a_pull_secret_from_the_stack_reaches_every_catalog_pod_as_a_secret():
    plan = plan_of(
        "dev",
        overrides={
            "marketplace:images": {"web": "ghcr.io/acme/catalog-web:1.0.0", "api": "ghcr.io/acme/catalog-api:1.0.0"},
            "marketplace:imagePullSecret": {"secure": "v1:cHVsbA=="},
        },
    )
    (pull,) = [s for s in plan.of_type(SECRET) if s.inputs.get("type") == "kubernetes.io/dockerconfigjson"]
    assert isinstance(pull.inputs["stringData"], SecretValue)
    assert set(reveal(pull.inputs["stringData"])) == {".dockerconfigjson"}
    deployments = plan.of_type(DEPLOYMENT)
    assert deployments
    for deployment in deployments:
        pod = deployment.inputs["spec"]["template"]["spec"]
        assert pod["imagePullSecrets"] == [{"name": pull.outputs["metadata"]["name"]}]
        assert pod["nodeSelector"] == {"marketplace/pool": "workers"}
    # Without one, the pods name none: the account's registry needs no secret.
    for deployment in plan_of("dev").of_type(DEPLOYMENT):
        assert "imagePullSecrets" not in deployment.inputs["spec"]["template"]["spec"]
