"""Entry point that `pulumi preview` and `pulumi up` run; the program is infra/program.py.

It sits at the project root, beside Pulumi.yaml, requirements.txt and .venv, so that the pulumi
CLI finds all four where it looks by default and `infra` and `components` import as packages.
"""

from infra.program import main

main()
