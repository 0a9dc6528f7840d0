"""Network-policy pieces every namespace of ours is fenced with: a policy that denies all
traffic to and from its pods, one that lets them resolve names, and the peers and ports the
allowing rules are made of. A namespace starts closed; each workload's own policy opens
what it needs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_kubernetes as kubernetes

meta = kubernetes.meta.v1
networking = kubernetes.networking.v1

# The label the API server puts on every namespace (Kubernetes 1.22+): what a namespace selector matches on.
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
# CoreDNS runs in kube-system on DOKS.
DNS_NAMESPACE = "kube-system"
DNS_PORT = 53

# Addresses a workload that talks to the internet never needs to reach: cluster, VPC and the
# droplet metadata service.
PRIVATE_V4 = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10")
PRIVATE_V6 = ("fc00::/7", "fe80::/10")


def tcp(*ports: int | str) -> list[networking.NetworkPolicyPortArgs]:
    return [networking.NetworkPolicyPortArgs(protocol="TCP", port=port) for port in ports]


def in_namespace(namespace: str) -> meta.LabelSelectorArgs:
    return meta.LabelSelectorArgs(match_labels={NAMESPACE_NAME_LABEL: namespace})


def pods_in(namespace: str, labels: Mapping[str, str]) -> networking.NetworkPolicyPeerArgs:
    """The pods with these labels in that namespace, and no others."""
    return networking.NetworkPolicyPeerArgs(
        namespace_selector=in_namespace(namespace), pod_selector=meta.LabelSelectorArgs(match_labels=dict(labels))
    )


def dns_egress() -> networking.NetworkPolicyEgressRuleArgs:
    """Name lookups: the cluster's DNS, over UDP and TCP (large answers fall back to TCP)."""
    return networking.NetworkPolicyEgressRuleArgs(
        to=[networking.NetworkPolicyPeerArgs(namespace_selector=in_namespace(DNS_NAMESPACE))],
        ports=[networking.NetworkPolicyPortArgs(protocol=protocol, port=DNS_PORT) for protocol in ("UDP", "TCP")],
    )


def public_egress(ports: Sequence[int | str]) -> networking.NetworkPolicyEgressRuleArgs:
    """Any public address, IPv4 or IPv6, on these ports: for a service outside the cluster
    whose addresses are not ours to pin."""
    return networking.NetworkPolicyEgressRuleArgs(
        to=[
            networking.NetworkPolicyPeerArgs(ip_block=networking.IPBlockArgs(cidr="0.0.0.0/0", except_=list(PRIVATE_V4))),
            networking.NetworkPolicyPeerArgs(ip_block=networking.IPBlockArgs(cidr="::/0", except_=list(PRIVATE_V6))),
        ],
        ports=tcp(*ports),
    )


def default_deny(
    resource_name: str, *, name: str, namespace: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> networking.NetworkPolicy:
    """Every pod of the namespace, in and out: nothing passes that another policy does not allow."""
    return networking.NetworkPolicy(
        resource_name,
        metadata=meta.ObjectMetaArgs(name=name, namespace=namespace),
        spec=networking.NetworkPolicySpecArgs(pod_selector=meta.LabelSelectorArgs(), policy_types=["Ingress", "Egress"]),
        opts=opts,
    )


def allow_dns(resource_name: str, *, namespace: pulumi.Input[str], opts: pulumi.ResourceOptions) -> networking.NetworkPolicy:
    """Every pod of the namespace may look names up."""
    return networking.NetworkPolicy(
        resource_name,
        metadata=meta.ObjectMetaArgs(name="allow-dns", namespace=namespace),
        spec=networking.NetworkPolicySpecArgs(
            pod_selector=meta.LabelSelectorArgs(), policy_types=["Egress"], egress=[dns_egress()]
        ),
        opts=opts,
    )
