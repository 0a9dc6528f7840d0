"""The offline engine: plans a stack on the Pulumi SDK's mock engine, in this process, with
no cloud account. `stack_config` reads config the way the Pulumi CLI does, `mocks` answers
for the providers, `engine` runs `__main__.py` and records every registration. The review
tools (`ops plan`, `ops diff`, ...), the policy runner and the tests all plan through it."""
