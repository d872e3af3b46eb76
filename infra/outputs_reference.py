"""Generate docs/outputs.md: every output a component publishes, with its description.

Each component declares its outputs once (``OUTPUTS``: key -> description) and the program
exports them as they are, so this reference is rendered from the code and cannot drift: a test
compares the committed file with ``render_outputs_reference()`` and ``make docs`` rewrites it.
"""

from __future__ import annotations

import inspect

import infra.program  # noqa: F401  # pyright: ignore[reportUnusedImport] - loads every component
from components.base import PlatformComponent

_INTRO = """\
# Component outputs

Generated from the components' `OUTPUTS` declarations by `make docs`; edit the code, not this
file.

Each component publishes these outputs; the stack exports them under the component's output
name (README, "What a stack contains"), e.g. `pulumi stack output database`. Secret values are
never among them: they name the Secrets Manager secret that holds one.
"""


def _components() -> list[type[PlatformComponent]]:
    found: list[type[PlatformComponent]] = []
    pending = list(PlatformComponent.__subclasses__())
    while pending:
        component = pending.pop()
        pending.extend(component.__subclasses__())
        if component.OUTPUTS:
            found.append(component)
    return sorted(found, key=lambda component: component.__module__ + component.__name__)


def render_outputs_reference() -> str:
    """The Markdown reference: a table of outputs per component."""
    sections = [_INTRO]
    for component in _components():
        summary = (inspect.getdoc(component) or "").split("\n\n", 1)[0].replace("\n", " ")
        rows = "\n".join(
            f"| `{key}` | {description} |" for key, description in component.OUTPUTS.items()
        )
        module = component.__module__.replace(".", "/") + ".py"
        sections.append(
            f"## {component.__name__} (`{module}`)\n\n{summary}\n\n"
            f"| output | what it holds |\n|---|---|\n{rows}\n"
        )
    return "\n".join(sections)
