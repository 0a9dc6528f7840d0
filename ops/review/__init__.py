"""Review tools: read an offline plan and say what it declares or changes (plan, diff,
diagram, manifests, cost, deploy time). They need no cloud account."""
