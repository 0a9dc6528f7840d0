"""Operator tools for the marketplace stacks: `python -m ops <command>`."""
