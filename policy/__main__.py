"""The policy pack `pulumi preview --policy-pack policy` runs (pulumi-policy, Python runtime).

The rules live in the `genericcorp_policy` package beside this file, which the offline plan
(`infractl plan`, `infractl policy`) runs too, so CI enforces the same rules with or without a
cloud account. docs/policies.md lists them.
"""

import sys
from pathlib import Path

# The pulumi CLI runs this file from the pack directory; make the rules package importable
# whatever the working directory and however the interpreter was started.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from genericcorp_policy import PACK_NAME, policies
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(
    PACK_NAME,
    policies(),
    enforcement_level=EnforcementLevel.MANDATORY,
    description="Generic Corp security baseline (AWS FSBP), cost-allocation tags, prod "
    "protection and the budget guard.",
)
