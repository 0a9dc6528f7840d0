"""Assets: the private Spaces bucket of front-end graphics, its CORS rules and CDN."""

from __future__ import annotations

import pulumi
import pulumi_digitalocean as digitalocean

from components.settings.stack import StackSettings


class Assets(pulumi.ComponentResource):
    """Front-end graphics: one bucket served everywhere through the DigitalOcean CDN.

    The bucket ACL is private (no public listing); the site's images are uploaded as
    public-read objects, which is what the CDN serves."""

    bucket: digitalocean.SpacesBucket
    cdn: digitalocean.Cdn

    def __init__(self, name: str, settings: StackSettings, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("marketplace:index:Assets", name, None, opts)
        assets = settings.assets
        # Losing this bucket loses data: production protects it from `pulumi destroy` and
        # keeps it if it ever leaves the program.
        keep = pulumi.ResourceOptions(parent=self, protect=assets.protect, retain_on_delete=assets.protect)

        # A lifecycle rule needs an expiration or a noncurrent-version expiration (the
        # provider's docs; its schema does not check), so an unversioned bucket has no rule:
        # one that only aborted stale multipart uploads would be refused.
        lifecycle = (
            [
                digitalocean.SpacesBucketLifecycleRuleArgs(
                    id="expire-old-versions",
                    enabled=True,
                    noncurrent_version_expiration=digitalocean.SpacesBucketLifecycleRuleNoncurrentVersionExpirationArgs(
                        days=assets.noncurrent_version_days
                    ),
                    abort_incomplete_multipart_upload_days=7,
                )
            ]
            if assets.versioning
            else []
        )

        # Bucket names are global across all of Spaces: the logical name carries the
        # stack and Pulumi appends a random suffix to make the physical one.
        self.bucket = digitalocean.SpacesBucket(
            f"{settings.name_prefix}-assets",
            region=assets.region,
            acl="private",
            versioning=digitalocean.SpacesBucketVersioningArgs(enabled=assets.versioning),
            lifecycle_rules=lifecycle or None,
            force_destroy=not assets.protect,
            opts=keep,
        )

        self.cors = digitalocean.SpacesBucketCorsConfiguration(
            f"{name}-cors",
            bucket=self.bucket.name,
            region=assets.region,
            cors_rules=[
                digitalocean.SpacesBucketCorsConfigurationCorsRuleArgs(
                    allowed_methods=["GET", "HEAD"],
                    allowed_origins=[f"https://{settings.hostname}"],
                    allowed_headers=["*"],
                    max_age_seconds=3600,
                )
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.cdn = digitalocean.Cdn(
            f"{name}-cdn",
            origin=self.bucket.bucket_domain_name,
            ttl=assets.cdn_ttl_seconds,
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.register_outputs(
            {
                "bucketName": self.bucket.name,
                "bucketUrn": self.bucket.bucket_urn,
                "cdnEndpoint": self.cdn.endpoint,
            }
        )
