"""The DigitalOcean Project groups every cluster, the bucket and the log store of a stack."""

from __future__ import annotations

from tests.conftest import plan_of


def test_project_holds_every_cluster_the_bucket_and_the_log_store():
    plan = plan_of("production")
    (project,) = plan.of_type("digitalocean:index/project:Project")
    (members,) = plan.of_type("digitalocean:index/projectResources:ProjectResources")
    assert project.inputs["environment"] == "Production"
    assert project.inputs["name"] == "mkt-production"
    clusters = [c.outputs["clusterUrn"] for c in plan.of_type("digitalocean:index/kubernetesCluster:KubernetesCluster")]
    (bucket,) = plan.of_type("digitalocean:index/spacesBucket:SpacesBucket")
    (store,) = plan.of_type("digitalocean:index/databaseCluster:DatabaseCluster")
    assert sorted(members.inputs["resources"]) == sorted([*clusters, bucket.outputs["bucketUrn"], store.outputs["clusterUrn"]])
    assert plan_of("dev-alice").of_type("digitalocean:index/project:Project")[0].inputs["environment"] == "Development"
