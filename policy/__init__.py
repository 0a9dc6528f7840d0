"""CrossGuard policies of the marketplace stacks."""
