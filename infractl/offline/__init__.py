"""The offline plan: run the real Pulumi program under the SDK's mock runtime, with no AWS account,
credentials, pulumi CLI or network, and record everything it declares.

``stackfile`` reads the stack files as the pulumi CLI hands them over, ``mocks`` answers as AWS
would, ``engine`` runs the program and records a ``plan.Plan``, ``render`` prints it, ``schema``
reads resource-type facts from the installed provider SDKs and ``output_secrets`` checks that no
plain stack output leaks a secret. ``sdk`` is the one module that touches private names of the
Pulumi SDKs.
"""
