"""components/images.py: the one image rule of the stack settings and the policy pack."""

from __future__ import annotations

import json

import pytest

from components.images import image_problem
from components.settings import ConfigError
from policy import workloads
from tests.policy.policycases import DEPLOYMENT, check, edit, web
from tests.stack_settings import settings_of

DIGEST = "@sha256:" + "0" * 64

# (reference, pinned): what the settings and the pack each accepted before they shared the
# rule, and the references on which they disagreed.
REFERENCES = [
    ("registry.digitalocean.com/marketplace/catalog-web:1.0.0", True),
    ("localhost:5000/web:2026.11.3", True),
    ("docker.io/envoyproxy/envoy:v1.33.2", True),
    ("ghcr.io/acme/api:sha-3f9c2ab", True),
    ("ghcr.io/acme/web" + DIGEST, True),
    ("ghcr.io/acme/web:1.2" + DIGEST, True),
    ("ghcr.io/acme/web", False),
    ("localhost:5000/web", False),
    ("registry:5000/app", False),
    ("nginx", False),
    ("ghcr.io/acme/web:latest", False),
    ("ghcr.io/acme/web:LATEST", False),
    ("ghcr.io/acme/web:latest" + DIGEST, False),
    ("ghcr.io/acme/web@sha256:abc", False),
    ("ghcr.io/acme/web:-bad", False),
    # The settings took these moving tags; the pack refused them at deploy.
    ("ghcr.io/acme/web:stable", False),
    ("redis:7", False),
    ("nginx:1.27-alpine", False),
    # The pack took these malformed references; the settings refused them.
    ("Ghcr.io/Acme/Web:1.0.0", False),
    ("ghcr.io/acme/web:-1.0.0", False),
    ("registry.example.com:\u0665\u0660\u0660\u0660/catalog-api:1.0.0", False),
]


@pytest.mark.parametrize(("reference", "pinned"), REFERENCES, ids=[reference for reference, _ in REFERENCES])
def test_an_image_runs_when_well_formed_and_pinned_to_one_build(reference: str, pinned: bool) -> None:
    assert (image_problem(reference) is None) is pinned


@pytest.mark.parametrize(
    ("reference", "problem"),
    [
        ("nginx", "has no tag or digest, so every node may pull a different image: pin a release tag (nginx:1.4.2) or a"),
        ("nginx:latest", "uses the moving tag 'latest': pin a release tag (nginx:1.4.2) or a digest"),
        ("redis:7", "uses the tag '7', which can move: pin a full x.y.z release tag (redis:1.4.2), a build id or a digest"),
        ("nginx@sha256:abc", "has a malformed digest: expected @sha256: and 64 lowercase hex digits"),
        ("Nginx:1.0.0", "is not an image reference such as registry.example.com/catalog-web:1.4.2"),
    ],
)
def test_each_reason_shows_a_pinned_example(reference: str, problem: str) -> None:
    assert str(image_problem(reference)).startswith(problem)


@pytest.mark.parametrize("reference", [reference for reference, _ in REFERENCES])
def test_the_pack_refuses_exactly_the_images_the_settings_refuse(reference: str) -> None:
    """An image the settings accept must not be refused by the pack at deploy, after the
    whole plan is made; one the pack would let through, the settings have no cause to refuse."""
    try:
        settings_of("staging", {"marketplace:images": json.dumps({"web": reference})})
        settings_refuse = False
    except ConfigError:
        settings_refuse = True
    deployment = edit(DEPLOYMENT, lambda d: web(d).update(image=reference))
    assert settings_refuse == bool(check(workloads.pinned_images, workloads.DEPLOYMENT, deployment))
