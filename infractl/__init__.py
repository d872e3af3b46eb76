"""``infractl``, the operator CLI of the platform stacks (``infractl/cli.py`` wires its commands).

Its subpackages, one concern each:

- ``offline``: the offline plan (the real program under Pulumi's mock runtime) and what reads it;
- ``policy``: the policy pack's run over an offline plan (``infractl policy``);
- ``cost``: the cost review commands (``infractl cost``);
- ``aws``: the commands that talk to AWS (``infractl bootstrap``, ``infractl verify``).
"""
