"""Assets: a private bucket with CORS for the catalog, CDN, and protection in production."""

from __future__ import annotations

from tests.conftest import plan_of

BUCKET = "digitalocean:index/spacesBucket:SpacesBucket"
CORS = "digitalocean:index/spacesBucketCorsConfiguration:SpacesBucketCorsConfiguration"
CDN = "digitalocean:index/cdn:Cdn"


def test_production_bucket_is_private_versioned_expiring_and_protected():
    plan = plan_of("production")
    (bucket,) = plan.of_type(BUCKET)
    assert bucket.inputs["acl"] == "private"
    assert bucket.inputs["versioning"] == {"enabled": True}
    (rule,) = bucket.inputs["lifecycleRules"]
    assert rule["enabled"] is True and rule["noncurrentVersionExpiration"] == {"days": 30}
    assert bucket.protect and bucket.retain_on_delete
    assert bucket.inputs["forceDestroy"] is False


def test_dev_bucket_can_be_thrown_away():
    (bucket,) = plan_of("dev-alice").of_type(BUCKET)
    assert not bucket.protect and not bucket.retain_on_delete
    assert bucket.inputs["forceDestroy"] is True
    assert bucket.inputs["versioning"] == {"enabled": False}
    # No lifecycle rule: one without an expiration (only aborting stale uploads) is refused.
    assert "lifecycleRules" not in bucket.inputs


def test_every_lifecycle_rule_expires_something_and_the_cdn_ttl_is_one_the_api_takes():
    from components.platform import platform_rules, value_problem

    rules = platform_rules()
    lifecycle = next(r for r in rules.allowed_values if r.what == "Spaces lifecycle rule action")
    ttl = rules.allowed(CDN, "ttl")
    for stack in ("production", "staging", "dev", "dev-alice"):
        plan = plan_of(stack)
        for bucket in plan.of_type(BUCKET):
            for rule in bucket.inputs.get("lifecycleRules", []):
                assert value_problem(lifecycle, rule) is None, (stack, rule)
        (cdn,) = plan.of_type(CDN)
        assert value_problem(ttl, cdn.inputs["ttl"]) is None


def test_cors_allows_only_the_stacks_own_hostname_to_read():
    for stack, origin in (("production", "https://catalog.example.com"), ("dev-alice", "https://alice.dev.catalog.example.com")):
        plan = plan_of(stack)
        (cors,) = plan.of_type(CORS)
        (bucket,) = plan.of_type(BUCKET)
        (rule,) = cors.inputs["corsRules"]
        assert rule["allowedOrigins"] == [origin]
        assert rule["allowedMethods"] == ["GET", "HEAD"]
        assert cors.inputs["bucket"] == bucket.outputs["name"]


def test_cdn_serves_the_bucket():
    plan = plan_of("production")
    (cdn,) = plan.of_type(CDN)
    (bucket,) = plan.of_type(BUCKET)
    assert cdn.inputs["origin"] == bucket.outputs["bucketDomainName"]
    assert plan.outputs["assetsCdn"].endswith(".cdn.digitaloceanspaces.com")
