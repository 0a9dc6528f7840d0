"""Live operations against a deployed stack or a stack file: smoke tests, personal dev
stacks, and the steps of a cluster upgrade."""
