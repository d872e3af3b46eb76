"""The commands that talk to AWS through boto3, outside any Pulumi stack.

``bootstrap`` creates or checks the state bucket and secrets key a stack needs before its first
``pulumi login``; ``verify`` checks a deployed stack's live resources against its outputs;
``access`` is what both share: region validation and one-line credential errors.
"""
