"""CrossGuard policies of the marketplace stacks (docs/policy.md).

One module per family: clusters, storage, workloads, edge, cost; pack.py lists them all;
__main__.py serves them to the Pulumi CLI; offline.py runs them over an offline plan.
"""
