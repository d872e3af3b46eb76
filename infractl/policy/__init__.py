"""The policy pack run over an offline plan, as ``pulumi preview --policy-pack`` would run it.

``runner`` hands the recorded resources and stack to the pack's policies and collects the
violations; ``cli`` is ``infractl policy`` and ``infractl policy-reference``, and the check
``infractl plan`` runs after rendering a stack.
"""
