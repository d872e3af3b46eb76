"""Availability: the catalog of published figures, the targets a stack is held to, and how
links compose into the figure of a path a customer (or an operator) depends on.

Declares no resource. ``infra/availability.py`` builds each path of a stack from its parts
(``infra/composition.py``) with the figures named here, before anything is declared, as the cost
estimate is built; this module holds what that needs and nothing about any one stack:

- the catalog, ``reliability/availability-catalog.yaml``: every figure with its kind (SLA, design
  or planning figure), the page it comes from, the date it was read and a confidence. A figure the
  catalog lacks is an error naming the service that needs it and the file, never a guess;
- ``genericcorp:availability``: the target of each path and the shortfalls a prod stack accepts
  (see docs/architecture.md, "Availability", for why a shortfall must be acknowledged);
- ``Link`` and ``AvailabilityPath``: links in series multiply; redundancy across zones composes
  in parallel, ``1 - (1 - a)^n``, capped at the figure the provider commits to for the whole.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, Literal

import pulumi
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from components.base import ByEnvironment, ProdRule, SettingsModel

#: The catalog of availability figures, beside the price catalogs' directory.
CATALOG_FILE = "reliability/availability-catalog.yaml"
CATALOG_PATH = Path(__file__).resolve().parent.parent / CATALOG_FILE

#: The month the figures are turned into downtime over: 730 hours, the price catalog's
#: ``hoursPerMonth`` (365 x 24 / 12), so that a month means the same in both models.
HOURS_PER_MONTH = 730
MINUTES_PER_MONTH = HOURS_PER_MONTH * 60

Confidence = Literal["high", "medium", "low"]
_CONFIDENCE_ORDER: dict[str, int] = {"low": 0, "medium": 1, "high": 2}


class AvailabilityError(pulumi.RunError):
    """The availability model cannot be computed honestly (a figure is missing) or a prod path
    falls below its target. A ``pulumi.RunError`` so that ``pulumi preview`` prints the message
    without a traceback."""


# --- the catalog ---------------------------------------------------------------------------


class _CatalogModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


class Figure(_CatalogModel):
    """One availability figure: a service's monthly uptime in percent, and where it comes from."""

    key: str = Field(min_length=1)
    percent: float = Field(gt=0, le=100)
    kind: Literal["sla", "design", "planning"]
    """``sla``: a published commitment with service credits; ``design``: availability the
    provider documents without credits; ``planning``: no published figure, a stated assumption."""
    title: str = Field(min_length=1)
    source: str = Field(pattern=r"^https://\S+$")
    date: str = Field(pattern=r"^\d{4}-\d{2}(-\d{2})?$")
    confidence: Confidence
    note: str | None = None

    @property
    def fraction(self) -> float:
        return self.percent / 100


class AvailabilityCatalog(_CatalogModel):
    """Every figure the model may use; look figures up with ``figure(key, needed_by=...)``."""

    collected: str = Field(pattern=r"^\d{4}-\d{2}$")
    figures: list[Figure] = Field(min_length=1)

    @field_validator("figures")
    @classmethod
    def _unique_keys(cls, figures: list[Figure]) -> list[Figure]:
        keys = [figure.key for figure in figures]
        repeated = sorted({key for key in keys if keys.count(key) > 1})
        if repeated:
            raise ValueError(f"each key may appear once; repeated: {', '.join(repeated)}")
        return figures

    def figure(self, key: str, *, needed_by: str) -> Figure:
        """The figure under ``key``; ``needed_by`` names the service of the plan that uses it."""
        for entry in self.figures:
            if entry.key == key:
                return entry
        service = key.partition(".")[0]
        close = sorted(f.key for f in self.figures if f.key.partition(".")[0] == service)
        hint = f"; figures of that service: {', '.join(close)}" if close else ""
        raise AvailabilityError(
            f"availability catalog {CATALOG_FILE} has no figure {key!r}: {needed_by} needs it"
            f"{hint}. Add it with its percent, kind, title, source, date and confidence."
        )


@cache
def load_availability_catalog() -> AvailabilityCatalog:
    """The catalog, validated (an invalid file is an error naming it)."""
    try:
        document = yaml.safe_load(CATALOG_PATH.read_text(encoding="utf-8"))
        return AvailabilityCatalog.model_validate(document)
    except (OSError, yaml.YAMLError, ValidationError) as error:
        raise AvailabilityError(
            f"{CATALOG_FILE}: not a valid availability catalog: {error}"
        ) from None


# --- composition ---------------------------------------------------------------------------


class PathKind(StrEnum):
    REQUEST = "request"
    """Serves customers' requests: while a link is down, requests fail."""
    CONTROL = "control"
    """Serves no request while down: running workloads keep serving; deploys, scaling and
    restarts wait."""


class PathName(StrEnum):
    """The paths the model reports, in the order it reports them."""

    API = "api"
    LANDING = "landing"
    DEMO = "demo"
    CDN = "cdn"
    CONTROL = "control"


@dataclass(frozen=True)
class Link:
    """One link of a path: its figure and how it was composed from the catalog's figures."""

    name: str
    fraction: float
    """Availability as a fraction (0.9995 for 99.95%)."""
    basis: str
    """How the figure follows from the catalog and the stack, in words and numbers."""
    figures: tuple[Figure, ...]

    @classmethod
    def single(cls, name: str, figure: Figure, basis: str) -> Link:
        """A link whose figure is one catalog figure as published."""
        published = f"{basis}: {figure.percent:g}% ({figure.title})"
        return cls(name, figure.fraction, published, (figure,))

    @classmethod
    def across_zones(cls, name: str, zone: Figure, zones: int, cap: Figure, what: str) -> Link:
        """``zones`` redundant copies of ``what``, one per zone, each at ``zone``'s figure, in
        parallel: the link is down only when every zone is. Zones share a region, so the parallel
        figure is capped at ``cap``, what the provider commits to for capacity spread over zones.
        One zone is simply ``zone``'s figure, and none is 0."""
        if zones <= 0:
            return cls(name, 0.0, f"no {what} is kept in any zone", (zone,))
        if zones == 1:
            return cls.single(name, zone, f"{what} in one zone")
        parallel = 1 - (1 - zone.fraction) ** zones
        fraction = min(parallel, cap.fraction)
        basis = (
            f"{what} in {zones} zones in parallel: 1 - (1 - {zone.percent:g}%)^{zones} = "
            f"{100 * parallel:.10g}% (a zone at {zone.percent:g}%: {zone.title}), capped at "
            f"{cap.percent:g}% ({cap.title})"
        )
        return cls(name, fraction, basis, (zone, cap))

    @property
    def percent(self) -> float:
        return 100 * self.fraction

    @property
    def confidence(self) -> Confidence:
        """The lowest confidence of the figures it is composed from."""
        return min((f.confidence for f in self.figures), key=_CONFIDENCE_ORDER.__getitem__)


@dataclass(frozen=True)
class AvailabilityPath:
    """A chain of links a request (or a deploy) goes through: all must be up, so the path's
    figure is the product of its links' figures."""

    name: PathName
    kind: PathKind
    serves: str
    """What the path serves, and its links in order."""
    links: tuple[Link, ...]

    @property
    def fraction(self) -> float:
        return math.prod(link.fraction for link in self.links)

    @property
    def percent(self) -> float:
        return 100 * self.fraction

    @property
    def weakest(self) -> tuple[Link, ...]:
        """The link(s) with the lowest figure, in path order (several when they tie)."""
        lowest = min(link.fraction for link in self.links)
        return tuple(link for link in self.links if math.isclose(link.fraction, lowest))

    @property
    def weakest_name(self) -> str:
        """The weakest link's name, or the tied ones' (``A, B and C``)."""
        names = [link.name for link in self.weakest]
        return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"

    @property
    def confidence(self) -> Confidence:
        return min((link.confidence for link in self.links), key=_CONFIDENCE_ORDER.__getitem__)


def downtime_minutes(percent: float) -> float:
    """Minutes a month (of ``MINUTES_PER_MONTH``) that an availability of ``percent`` allows."""
    return (100 - percent) / 100 * MINUTES_PER_MONTH


def at_least(percent: float, target: float) -> bool:
    """``percent >= target``, without a rounding error of the product deciding it."""
    return percent >= target - 1e-9


# --- settings (stack config) ---------------------------------------------------------------


def _target(description: str) -> Any:
    """A path's optional target: a percentage strictly between 0 and 100, or null for none."""
    return Field(gt=0, lt=100, description=description)


class AvailabilityTargets(SettingsModel):
    """Monthly availability each path is held to, in percent (strictly between 0 and 100)."""

    api: float = Field(
        gt=0, lt=100, description="The API: Route 53, the load balancer, nodes, PostgreSQL, Redis."
    )
    landing: float | None = _target("The landing page on Vercel (null: reported, no target).")
    demo: float | None = _target("The demo on Vercel (null: reported, no target).")
    cdn: float | None = _target("Static assets: CloudFront, WAF and S3 (null: no target).")
    control: float | None = _target(
        "Deploys and scaling: EKS control plane, NAT egress, ECR, CI (null: no target)."
    )

    def of(self, path: PathName) -> float | None:
        targets: dict[PathName, float | None] = {
            PathName.API: self.api,
            PathName.LANDING: self.landing,
            PathName.DEMO: self.demo,
            PathName.CDN: self.cdn,
            PathName.CONTROL: self.control,
        }
        return targets[path]


class AcceptedShortfall(SettingsModel):
    """A path a prod stack accepts below its target, down to a stated figure, because its
    design cannot reach the target on published figures. The target stays."""

    path: PathName = Field(description="The path: api, landing, demo, cdn or control.")
    figure_percent: float = Field(
        gt=0,
        lt=100,
        description="The lowest figure accepted for the path; a change below it is refused.",
    )
    reason: str = Field(min_length=1, description="Why the design cannot reach the target.")


class AvailabilitySettings(SettingsModel):
    """The availability model's targets and the shortfalls prod accepts (docs/architecture.md,
    "Availability"). Only prod is held to them: a prod path below its target fails the plan
    unless a shortfall is accepted for it."""

    targets: AvailabilityTargets = Field(description="Target per path.")
    accepted_shortfall: list[AcceptedShortfall] = Field(
        description="Paths accepted below their target (path, figurePercent, reason): a "
        "reviewed acknowledgement that the design cannot reach the target on published figures."
    )

    @field_validator("accepted_shortfall")
    @classmethod
    def _shortfalls_of_targets(
        cls, shortfalls: list[AcceptedShortfall], info: ValidationInfo
    ) -> list[AcceptedShortfall]:
        paths = [str(s.path) for s in shortfalls]
        repeated = sorted({path for path in paths if paths.count(path) > 1})
        if repeated:
            raise ValueError(f"one entry per path; repeated: {', '.join(repeated)}")
        targets = info.data.get("targets")
        if not isinstance(targets, AvailabilityTargets):
            return shortfalls
        for index, shortfall in enumerate(shortfalls):
            target = targets.of(shortfall.path)
            if target is None:
                raise ValueError(
                    f"item {index} accepts a shortfall of path {shortfall.path}, which has no "
                    f"target (genericcorp:availability.targets.{shortfall.path} is null)"
                )
            if at_least(shortfall.figure_percent, target):
                raise ValueError(
                    f"item {index} ({shortfall.path}): figurePercent {shortfall.figure_percent:g} "
                    f"is not below the path's target {target:g}, so it is no shortfall"
                )
        return shortfalls

    def accepted(self, path: PathName) -> tuple[int, AcceptedShortfall] | None:
        """The shortfall accepted for ``path`` and its index in the list, if any."""
        for index, shortfall in enumerate(self.accepted_shortfall):
            if shortfall.path is path:
                return index, shortfall
        return None


# Defaults per environment and prod rules

#: The brief's uptime target for prod.
PROD_TARGET_PERCENT = 99.9

AVAILABILITY_DEFAULTS = ByEnvironment.same(
    AvailabilitySettings(
        # The brief's 99.9% for the API and for each public endpoint the uptime checks watch.
        # The control path serves no request while it is down: reported, without a target. Dev
        # is reported against the same targets (what it would take to reach them) but only prod
        # is held to them.
        targets=AvailabilityTargets(
            api=PROD_TARGET_PERCENT,
            landing=PROD_TARGET_PERCENT,
            demo=PROD_TARGET_PERCENT,
            cdn=PROD_TARGET_PERCENT,
            control=None,
        ),
        # A shortfall is a stack's own reviewed decision, never a default.
        accepted_shortfall=[],
    )
)


def _prod_target(
    target: Callable[[AvailabilitySettings], float | None],
) -> ProdRule[AvailabilitySettings, float | None]:
    """Prod may not lower (or drop) a request path's target: the guard measures against it."""
    return ProdRule(
        AvailabilitySettings,
        key=target,
        accepts=lambda percent: percent is not None and at_least(percent, PROD_TARGET_PERCENT),
        allowed=f"{PROD_TARGET_PERCENT:g} or more",
        reason=f"prod is held to {PROD_TARGET_PERCENT:g}% uptime; a path the design cannot bring "
        "there is acknowledged in acceptedShortfall, and its target stays",
    )


AVAILABILITY_PROD_RULES = (
    _prod_target(lambda s: s.targets.api),
    _prod_target(lambda s: s.targets.landing),
    _prod_target(lambda s: s.targets.demo),
    _prod_target(lambda s: s.targets.cdn),
)
