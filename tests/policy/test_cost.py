"""policy/cost.py: the dev budget and the estimate it is checked against."""

from __future__ import annotations

from policy import cost
from tests import policy_fixtures as fx
from tests.policy.policyargs import policy_resource
from tests.policy.policycases import (
    BUCKET,
    CLUSTER,
    bucket,
    cluster,
    dev_stack,
    edit,
    gateway_objects,
    on_cluster,
    stack_check,
)


def test_a_dev_stack_above_its_budget_is_refused():
    table = cost.prices()
    per_node = table["droplets"]["s-4vcpu-8gb"]["monthly"]
    assert stack_check(cost.dev_budget, dev_stack(2, "s-4vcpu-8gb")) == []
    [message] = stack_check(cost.dev_budget, dev_stack(4, "s-4vcpu-8gb"))
    assert message.startswith(f"this dev stack could cost ${4 * per_node}/month at full scale, above its budget of $150")
    assert f"nyc3-doks: 4 x s-4vcpu-8gb ${4 * per_node}" in message
    # The budget is the policy's config (--policy-pack-config).
    assert stack_check(cost.dev_budget, dev_stack(4, "s-4vcpu-8gb"), {"maxMonthlyUsd": 500}) == []
    # Only dev stacks have a budget.
    production = [policy_resource(CLUSTER, cluster(), stack="production", name="nyc3-doks")]
    assert stack_check(cost.dev_budget, production) == []


def test_the_estimate_counts_load_balancers_gateways_spaces_and_cloudflare():
    table = cost.prices()
    lb_service = edit(fx.service(), lambda s: s["spec"].update(type="LoadBalancer"))
    lb_service["metadata"]["annotations"] = {cost.SIZE_UNIT_ANNOTATION: "3"}
    resources = [
        *dev_stack(2),
        *on_cluster((fx.SERVICE, "lb", lb_service), *gateway_objects(), stack="dev-alice"),
        policy_resource(BUCKET, bucket(), stack="dev-alice", name="assets"),
        policy_resource(fx.LOAD_BALANCER, fx.load_balancer(), stack="dev-alice", name="lb"),
        *(policy_resource(fx.POOL, fx.pool(r), stack="dev-alice", name=f"{r}-pool") for r in ("nyc3", "fra1", "sgp1")),
    ]
    lines = dict(cost.estimate(resources))
    lb = table["loadBalancer"]["perNode"]
    assert lines["nyc3-doks: 2 x s-2vcpu-4gb"] == 2 * table["droplets"]["s-2vcpu-4gb"]["monthly"]
    assert lines["lb: load balancer, 3 node(s)"] == 3 * lb
    # The gateway's EnvoyProxy asks for 2 load-balancer nodes.
    assert lines["catalog-gateway: gateway load balancer, 2 node(s)"] == 2 * lb
    assert lines["Spaces subscription"] == table["spaces"]["subscription"]
    assert lines["Cloudflare: 1 origin(s) beyond 2"] == table["cloudflare"]["perExtraOrigin"]
    assert lines["Cloudflare traffic steering"] == table["cloudflare"]["perRegionSteering"]


def test_an_unpriced_droplet_size_is_refused_rather_than_guessed():
    [message] = stack_check(cost.dev_budget, dev_stack(2, "s-64vcpu-1tb"))
    assert message == "cannot estimate this dev stack's cost: droplet size 's-64vcpu-1tb' is not in data/prices.yaml"


def test_the_log_store_and_uptime_checks_count_against_a_dev_budget():
    table = cost.prices()
    store = {"engine": "opensearch", "size": "db-s-1vcpu-2gb", "nodeCount": 1}
    check = {"target": "https://alice.dev.catalog.example.com/", "type": "https"}
    resources = [
        *dev_stack(2),
        policy_resource(cost.DATABASE, store, stack="dev-alice", name="logs-opensearch"),
        policy_resource(cost.UPTIME_CHECK, check, stack="dev-alice", name="uptime-site"),
    ]
    lines = dict(cost.estimate(resources))
    assert lines["logs-opensearch: 1 x db-s-1vcpu-2gb"] == table["opensearch"]["nodes"]["db-s-1vcpu-2gb"]["monthly"]
    assert lines["uptime-site: uptime check"] == table["uptime"]["perCheck"]
    unpriced = policy_resource(cost.DATABASE, {**store, "size": "m3-8vcpu-64gb"}, stack="dev-alice", name="logs-opensearch")
    [message] = stack_check(cost.dev_budget, [*dev_stack(2), unpriced])
    assert message == (
        "cannot estimate this dev stack's cost: database size 'm3-8vcpu-64gb' x 1 node(s) is not priced in data/prices.yaml"
    )
