"""Pulumi components of the marketplace stacks, one module per resource family."""
