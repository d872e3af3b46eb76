"""EksCluster: the EKS control plane the platform's services run on.

Creates:
- a ``KmsKey`` that encrypts Kubernetes secrets (envelope encryption, FSBP EKS.3), and a second
  one for the control-plane log group (CloudWatch Logs may use only the key of its purpose);
- ``aws.cloudwatch.LogGroup`` ``/aws/eks/<cluster>/cluster`` with a retention period, declared
  before the cluster: EKS would otherwise create it itself, without retention or encryption;
- the cluster role (``AmazonEKSClusterPolicy``) and an inline grant on the secrets key only;
- ``aws.eks.Cluster``: a Kubernetes version from ``KUBERNETES_VERSIONS`` with the upgrade policy
  ``STANDARD`` (never billed for extended support), every control-plane log type (FSBP EKS.8),
  private endpoint on, public endpoint off or limited to configured CIDRs (FSBP EKS.1),
  authentication mode ``API`` without permanent admin rights for whoever created it;
- one ``aws.eks.AccessEntry`` and ``aws.eks.AccessPolicyAssociation`` per configured admin;
- ``aws.iam.OpenIdConnectProvider`` for the cluster's issuer, so that service accounts assume
  IAM roles (IRSA) instead of borrowing the node role (``components.shared.iam``);
- CloudWatch alarms on the control-plane metrics EKS publishes for free: pods the scheduler
  cannot place (the node groups are out of capacity) and API server 5XX responses.

The cluster security group EKS creates is what managed nodes (whose launch template names no
security group) and their pods use; the data tier admits it (``cluster_security_group_id``).
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, ClassVar, Self

import pulumi
import pulumi_aws as aws
from genericcorp_policy.thresholds import PROD_AUDIT_LOG_RETENTION_DAYS, PROD_CAPACITY_TYPE
from pydantic import Field, ValidationInfo, field_validator, model_validator

from components.base import (
    ByEnvironment,
    PlatformComponent,
    ProdRule,
    SettingsModel,
    policy_document,
    static_policy_document,
    unvalidated,
)
from components.cost import CostLine, PriceCatalog, UsageSettings, hourly, log_lines
from components.eks_addons import AddonOverrides, AddonVersions
from components.kms_key import KmsKey, KmsSettings
from components.node_group import CapacityType, NodeGroupSettings
from components.shared.alarms import AlarmSpec, alarm_line, metric_alarm
from components.shared.iam import OidcIdentity
from components.shared.logs import LogRetentionDays, encrypted_log_group
from components.shared.wiring import Wiring


@dataclass(frozen=True)
class VersionSupport:
    released: date
    """Day Amazon EKS made the minor version available."""
    end_of_standard_support: date
    """Last day of standard support; extended support costs six times as much per hour."""


#: Kubernetes minor versions the program accepts: those in EKS standard support on 2026-11-25
#: (EKS gives 14 months of standard support per minor). 1.34 leaves standard support on
#: 2026-12-02 and is listed only so that clusters still on it can be upgraded; new clusters get
#: 1.35. To update: add each new minor with the dates from the EKS "Kubernetes version
#: lifecycle" page, drop versions past end of standard support, add the add-on and
#: cluster-autoscaler versions for the new minor (defaults below, kubernetes_platform.py), then
#: ``make docs snapshots``. ``tests/test_eks_cluster.py`` fails while a listed version is out of
#: standard support on the review date below.
KUBERNETES_VERSIONS: dict[str, VersionSupport] = {
    "1.34": VersionSupport(date(2025, 10, 2), date(2026, 12, 2)),
    "1.35": VersionSupport(date(2026, 1, 27), date(2027, 3, 27)),
}
VERSIONS_REVIEWED_ON = date(2026, 11, 25)

#: Every control-plane log type EKS can send to CloudWatch Logs.
CONTROL_PLANE_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")


class AccessPolicy(StrEnum):
    """EKS access policies an admin access entry may get, cluster-wide."""

    CLUSTER_ADMIN = "cluster-admin"
    ADMIN = "admin"
    EDIT = "edit"
    VIEW = "view"

    @property
    def arn(self) -> str:
        name = {
            AccessPolicy.CLUSTER_ADMIN: "AmazonEKSClusterAdminPolicy",
            AccessPolicy.ADMIN: "AmazonEKSAdminPolicy",
            AccessPolicy.EDIT: "AmazonEKSEditPolicy",
            AccessPolicy.VIEW: "AmazonEKSViewPolicy",
        }[self]
        return f"arn:aws:eks::aws:cluster-access-policy/{name}"


_PRINCIPAL_ARN = re.compile(r"^arn:aws:iam::\d{12}:(role|user)/[\w+=,.@/-]{1,512}$")


class AccessEntrySettings(SettingsModel):
    """An IAM principal that may use the Kubernetes API, and how much it may do."""

    principal_arn: str = Field(
        description=(
            "ARN of an IAM role or user, e.g. arn:aws:iam::123456789012:role/platform-admin "
            "(not an assumed-role session ARN)."
        ),
    )
    access_policy: AccessPolicy = Field(
        description="EKS access policy granted cluster-wide: cluster-admin, admin, edit or view.",
    )

    @field_validator("principal_arn")
    @classmethod
    def _iam_principal(cls, arn: str) -> str:
        if not _PRINCIPAL_ARN.match(arn):
            raise ValueError(
                "must be an IAM role or user ARN such as "
                "arn:aws:iam::123456789012:role/platform-admin (EKS access entries take no "
                "groups, assumed-role sessions or service principals)"
            )
        return arn


class ClusterSettings(SettingsModel):
    """The EKS cluster, its node groups and its managed add-ons."""

    version: str = Field(
        description=(
            "Kubernetes minor version; one of "
            + ", ".join(KUBERNETES_VERSIONS)
            + " (in EKS standard support)."
        ),
    )
    endpoint_public_access: bool = Field(
        description=(
            "Expose the API endpoint to the internet for the CIDRs in publicAccessCidrs. The "
            "private endpoint is always on; without public access, pulumi and kubectl must run "
            "inside the VPC (or a network peered with it)."
        ),
    )
    public_access_cidrs: list[str] = Field(
        description="CIDRs allowed to reach the public endpoint; never 0.0.0.0/0.",
    )
    access_entries: list[AccessEntrySettings] = Field(
        description=(
            "IAM roles or users given Kubernetes API access. Whoever runs pulumi needs one: "
            "the creator gets no permanent admin rights."
        ),
    )
    log_retention_days: LogRetentionDays = Field(
        description="Days CloudWatch Logs keeps control-plane logs (audit trail).",
    )
    node_groups: list[NodeGroupSettings] = Field(
        min_length=1, description="Managed node groups (at least one)."
    )
    addons: AddonOverrides = Field(
        description=(
            "Versions of the managed EKS add-ons that replace those ADDON_VERSIONS "
            "(components/eks_cluster.py) lists for the cluster's version; unset ones keep it."
        ),
    )

    @field_validator("version")
    @classmethod
    def _supported(cls, version: str) -> str:
        if version not in KUBERNETES_VERSIONS:
            raise ValueError(
                f"Kubernetes {version} is not in EKS standard support; allowed: "
                + ", ".join(KUBERNETES_VERSIONS)
            )
        return version

    @field_validator("addons")
    @classmethod
    def _defaults_known(cls, addons: AddonOverrides, info: ValidationInfo) -> AddonOverrides:
        version = info.data.get("version")
        if version is not None and version not in ADDON_VERSIONS and not addons.complete():
            raise ValueError(
                f"Kubernetes {version} (genericcorp:cluster.version) has no add-on versions in "
                "ADDON_VERSIONS (components/eks_cluster.py), which lists "
                + ", ".join(ADDON_VERSIONS)
                + ": add its entry from aws eks describe-addon-versions --kubernetes-version "
                f"{version}, or set every add-on's version here"
            )
        return addons

    @property
    def addon_versions(self) -> AddonVersions:
        """The add-on versions the cluster runs: its version's entry of ``ADDON_VERSIONS``
        with the stack file's ``addons`` over it."""
        if self.addons.complete():
            return AddonVersions.model_validate(self.addons.pinned())
        return self.addons.over(ADDON_VERSIONS[self.version])

    @field_validator("public_access_cidrs")
    @classmethod
    def _cidrs(cls, cidrs: list[str]) -> list[str]:
        for cidr in cidrs:
            try:
                network = ipaddress.IPv4Network(cidr)
            except ValueError as error:
                raise ValueError(f"{cidr!r} is not an IPv4 CIDR ({error})") from None
            if network.prefixlen == 0:
                raise ValueError(
                    "0.0.0.0/0 opens the Kubernetes API to the whole internet (FSBP EKS.1); "
                    "list the operators' and CI's egress CIDRs instead"
                )
        if len(set(cidrs)) != len(cidrs):
            raise ValueError("each CIDR may appear once")
        return cidrs

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.endpoint_public_access and not self.public_access_cidrs:
            raise ValueError(
                "endpointPublicAccess is true but publicAccessCidrs is empty: EKS would open the "
                "endpoint to 0.0.0.0/0; list the CIDRs that may reach it"
            )
        if not self.endpoint_public_access and self.public_access_cidrs:
            raise ValueError(
                "publicAccessCidrs is set but endpointPublicAccess is false: the CIDRs would be "
                "ignored; remove them or turn public access on"
            )
        repeated = _repeated(group.name for group in self.node_groups)
        if repeated:
            raise ValueError(f"node group names must be unique; repeated: {', '.join(repeated)}")
        if not any(e.access_policy is AccessPolicy.CLUSTER_ADMIN for e in self.access_entries):
            raise ValueError(
                "accessEntries needs a cluster-admin entry for the role that runs pulumi: the "
                "cluster grants its creator nothing, and the program installs Kubernetes objects"
            )
        repeated = _repeated(entry.principal_arn for entry in self.access_entries)
        if repeated:
            raise ValueError(f"each principal may have one access entry; repeated: {repeated}")
        kube_proxy = self.addon_versions.kube_proxy
        kube_proxy_minor = addon_minor(kube_proxy)
        if kube_proxy_minor != self.version:
            raise ValueError(
                f"addons.kubeProxy {kube_proxy} is for Kubernetes "
                f"{kube_proxy_minor}, the cluster runs {self.version}: kube-proxy must match "
                "the cluster's minor version"
            )
        return self


def addon_minor(version: str) -> str:
    """``v1.35.3-eksbuild.2`` -> ``1.35``: the Kubernetes minor a kube-proxy build is for."""
    return ".".join(version.lstrip("v").split(".")[:2])


@dataclass(frozen=True)
class EksClusterParts:
    """The control plane's keys, logs and alarms, known from its settings alone: ``EksCluster``
    declares them and ``cost_lines`` prices them, so the estimate (made before anything is
    declared) counts what the cluster creates."""

    settings: ClusterSettings

    secrets_key_purpose: ClassVar[str] = "eks-secrets"
    """The key that envelope-encrypts Kubernetes secrets."""
    logs_key_purpose: ClassVar[str] = "eks-logs"
    """The key of the control-plane log group (CloudWatch Logs may use only its own key)."""
    log_types: ClassVar[tuple[str, ...]] = CONTROL_PLANE_LOG_TYPES
    """Control-plane logs EKS sends to the log group: all of them."""
    alarms: ClassVar[tuple[AlarmSpec, ...]] = (
        AlarmSpec("unschedulable-pods", "AWS/EKS", "scheduler_pending_pods_UNSCHEDULABLE", 0,
                  "Pods have waited 15 minutes for a node: the node groups are at their maximum "
                  "size or no node fits their requests (raise maxSize or instance size).",
                  statistic="Maximum", treat_missing_data="notBreaching"),
        AlarmSpec("apiserver-5xx", "AWS/EKS", "apiserver_request_total_5XX", 10,
                  "The Kubernetes API server is answering with 5XX errors.",
                  statistic="Sum", treat_missing_data="notBreaching"),
    )  # fmt: skip
    """The control-plane metrics EKS publishes free: capacity shortfalls and API errors."""

    @property
    def key_purposes(self) -> tuple[str, ...]:
        """Every customer-managed key the cluster declares."""
        return (self.secrets_key_purpose, self.logs_key_purpose)

    def cost_lines(self, catalog: PriceCatalog, usage: UsageSettings) -> list[CostLine]:
        """Monthly cost of the control plane (its node groups price themselves). Access
        entries, the OIDC provider, the IAM role and the metrics the alarms watch are free."""
        settings = self.settings
        component = EksCluster.COMPONENT
        return [
            # The upgrade policy is STANDARD and only versions in standard support are
            # accepted, so the cluster is never billed the extended-support rate.
            CostLine.fixed(
                component,
                "EKS control plane",
                catalog.price("eks.cluster.standard-support", resource="aws:eks/cluster:Cluster"),
                hourly(catalog, 1),
                note=f"Kubernetes {settings.version}, standard support, "
                f"{catalog.hours_per_month} h",
            ),
            *KmsKey.cost_lines(component, catalog, purposes=self.key_purposes),
            *log_lines(
                component,
                catalog,
                label="Control-plane log",
                resource="EKS control-plane logs",
                ingested_gb=usage.cluster_logs_ingested_gb,
                retention_days=settings.log_retention_days,
                note=f"{', '.join(self.log_types)}; the audit log dominates",
            ),
            alarm_line(component, catalog, len(self.alarms), label="Control-plane alarms"),
        ]


class EksCluster(PlatformComponent):
    """An encrypted, audited, private EKS control plane with IRSA.

    Steps: the secrets key and the encrypted control-plane log group; the cluster role; the
    cluster; its access entries; the OIDC provider; the alarms. ``parts`` says what each step
    declares; ``wiring`` names, encrypts and alerts.
    """

    TYPE: ClassVar[str] = "genericcorp:compute:EksCluster"
    COMPONENT: ClassVar[str] = "compute"
    OUTPUTS: ClassVar[Mapping[str, str]] = {
        "name": "Cluster name (genericcorp-<stack>-eks).",
        "arn": "Cluster ARN.",
        "endpoint": "Kubernetes API endpoint (private; public only for the configured CIDRs).",
        "version": "Kubernetes minor version the control plane runs.",
        "securityGroupId": "Cluster security group EKS created: nodes and pods use it, and the "
        "data tier admits it.",
        "oidcProviderArn": "IAM OIDC provider of the cluster's issuer, for service-account roles.",
    }

    name: pulumi.Output[str]
    """The cluster's name, as add-ons, node groups and the kubeconfig address it."""
    arn: pulumi.Output[str]
    """The cluster's ARN."""
    endpoint: pulumi.Output[str]
    """The Kubernetes API endpoint."""
    version: pulumi.Output[str]
    """The Kubernetes version EKS reports."""
    kubernetes_version: str
    """The configured minor version, known before deployment (chart versions follow it)."""
    certificate_authority: pulumi.Output[str]
    """The cluster's CA certificate (base64), for the kubeconfig."""
    cluster_security_group_id: pulumi.Output[str]
    """The security group EKS created, which managed nodes and their pods use."""
    oidc: OidcIdentity
    """The cluster's OIDC provider, which service-account roles trust."""
    access: list[pulumi.Resource]
    """Access entries and their policies: Kubernetes calls fail until these exist."""
    kubeconfig: pulumi.Output[str]
    """A kubeconfig (JSON) whose user gets a token from ``aws eks get-token``; secret."""

    def __init__(
        self,
        name: str,
        parts: EksClusterParts,
        *,
        wiring: Wiring,
        private_subnet_ids: pulumi.Input[Sequence[str]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, context=wiring.context, opts=opts)
        self._physical_name = wiring.context.physical_name("eks")
        secrets_key = self._secrets_key(parts, wiring.kms)
        role, role_grants = self._role(secrets_key)
        cluster = self._cluster(
            parts,
            role=role,
            secrets_key=secrets_key,
            private_subnet_ids=private_subnet_ids,
            # EKS creates the log group itself (no retention, no key) if it does not exist,
            # and the role must hold its permissions before the cluster uses them.
            prerequisites=[self._log_group(parts, wiring.kms), *role_grants],
        )
        self.access = self._access_entries(parts, cluster)
        self.oidc = self._oidc_provider(cluster)
        for spec in parts.alarms:
            metric_alarm(
                self,
                f"{name}-{spec.suffix}",
                spec,
                dimensions={"ClusterName": self._physical_name},
                topic_arn=wiring.alarm_topic,
                tag=f"eks-{spec.suffix}",
                depends_on=[cluster],
            )

        self.name = cluster.name
        self.arn = cluster.arn
        self.endpoint = cluster.endpoint
        self.version = cluster.version
        self.kubernetes_version = parts.settings.version
        self.certificate_authority = cluster.certificate_authority.apply(lambda ca: ca.data or "")
        self.cluster_security_group_id = cluster.vpc_config.apply(
            lambda vpc: vpc.cluster_security_group_id or ""
        )
        region = self.context.region
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(cluster.name, cluster.endpoint, self.certificate_authority).apply(
                lambda values: kubeconfig(values[0], values[1], values[2], region)
            )
        )
        self.publish(
            {
                "name": self.name,
                "arn": self.arn,
                "endpoint": self.endpoint,
                "version": self.version,
                "securityGroupId": self.cluster_security_group_id,
                "oidcProviderArn": self.oidc.provider_arn,
            }
        )

    def _secrets_key(self, parts: EksClusterParts, kms: KmsSettings) -> KmsKey:
        """Envelope encryption of Kubernetes secrets with a key of our own (FSBP EKS.3)."""
        return KmsKey.owned_by(
            self,
            f"{self._name}-secrets-key",
            purpose=parts.secrets_key_purpose,
            description="encrypts Kubernetes secrets of the EKS cluster",
            settings=kms,
        )

    def _log_group(self, parts: EksClusterParts, kms: KmsSettings) -> aws.cloudwatch.LogGroup:
        """The control-plane log group, declared before the cluster so that it has a
        retention period and a key: EKS would create it without either."""
        return encrypted_log_group(
            self,
            f"{self._name}-control-plane-logs",
            key_name=f"{self._name}-logs-key",
            log_group_name=f"/aws/eks/{self._physical_name}/cluster",
            retention_days=parts.settings.log_retention_days,
            kms=kms,
            purpose=parts.logs_key_purpose,
            description="encrypts the EKS control-plane log group",
            statement_sid="CloudWatchLogsEncryptsControlPlaneLogs",
            tag="eks-control-plane-logs",
        )

    def _role(self, secrets_key: KmsKey) -> tuple[aws.iam.Role, list[pulumi.Resource]]:
        """The role the control plane manages AWS resources with, and its grants: the managed
        cluster policy and the secrets key alone (the cluster fails to start without them)."""
        role = aws.iam.Role(
            f"{self._name}-role",
            description="Lets the EKS control plane manage the cluster's AWS resources.",
            assume_role_policy=static_policy_document(
                [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "eks.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ]
            ),
            tags=self.tags("eks-cluster"),
            opts=self.child_opts(),
        )
        cluster_policy = aws.iam.RolePolicyAttachment(
            f"{self._name}-role-cluster-policy",
            role=role.name,
            policy_arn=f"arn:{self.context.partition}:iam::aws:policy/AmazonEKSClusterPolicy",
            opts=self.child_opts(),
        )
        secrets_access = aws.iam.RolePolicy(
            f"{self._name}-role-secrets-key",
            role=role.id,
            policy=policy_document(
                [
                    {
                        "Sid": "EnvelopeEncryptionOfSecrets",
                        "Effect": "Allow",
                        "Action": [
                            "kms:Encrypt",
                            "kms:Decrypt",
                            "kms:ListGrants",
                            "kms:DescribeKey",
                        ],
                        "Resource": secrets_key.arn,
                    }
                ]
            ),
            opts=self.child_opts(),
        )
        return role, [cluster_policy, secrets_access]

    def _cluster(
        self,
        parts: EksClusterParts,
        *,
        role: aws.iam.Role,
        secrets_key: KmsKey,
        private_subnet_ids: pulumi.Input[Sequence[str]],
        prerequisites: Sequence[pulumi.Resource],
    ) -> aws.eks.Cluster:
        """The control plane: private endpoint, every log type, API authentication without
        permanent admin rights for its creator, and never extended support."""
        settings = parts.settings
        is_prod = self.context.is_prod
        return aws.eks.Cluster(
            f"{self._name}-cluster",
            name=self._physical_name,
            version=settings.version,
            role_arn=role.arn,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=private_subnet_ids,
                endpoint_private_access=True,
                endpoint_public_access=settings.endpoint_public_access,
                public_access_cidrs=settings.public_access_cidrs or None,
            ),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                resources=["secrets"],
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=secrets_key.arn),
            ),
            enabled_cluster_log_types=list(parts.log_types),
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API",
                bootstrap_cluster_creator_admin_permissions=False,
            ),
            # The managed add-ons (with IRSA roles) replace EKS's self-managed defaults, which
            # would otherwise run vpc-cni on the node role's permissions.
            bootstrap_self_managed_addons=False,
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type="STANDARD"),
            deletion_protection=is_prod,
            tags=self.tags("eks"),
            opts=self.child_opts(protect=is_prod, depends_on=list(prerequisites)),
        )

    def _access_entries(
        self, parts: EksClusterParts, cluster: aws.eks.Cluster
    ) -> list[pulumi.Resource]:
        """One entry and cluster-wide policy per configured admin: the creator gets none, so
        these are the only way into the Kubernetes API."""
        access: list[pulumi.Resource] = []
        for index, entry in enumerate(parts.settings.access_entries):
            label = f"{self._name}-admin-{index}"
            access_entry = aws.eks.AccessEntry(
                label,
                cluster_name=cluster.name,
                principal_arn=entry.principal_arn,
                type="STANDARD",
                tags=self.tags(f"eks-admin-{index}"),
                opts=self.child_opts(),
            )
            association = aws.eks.AccessPolicyAssociation(
                f"{label}-{entry.access_policy}",
                cluster_name=cluster.name,
                principal_arn=access_entry.principal_arn,
                policy_arn=entry.access_policy.arn,
                access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                opts=self.child_opts(),
            )
            access += [access_entry, association]
        return access

    def _oidc_provider(self, cluster: aws.eks.Cluster) -> OidcIdentity:
        """The IAM OIDC provider of the cluster's issuer, so that service accounts assume roles
        of their own (IRSA) instead of borrowing the node role."""
        issuer_url = cluster.identities.apply(_issuer)
        provider = aws.iam.OpenIdConnectProvider(
            f"{self._name}-oidc",
            url=issuer_url,
            client_id_lists=["sts.amazonaws.com"],
            tags=self.tags("eks-oidc"),
            opts=self.child_opts(),
        )
        return OidcIdentity(
            provider_arn=provider.arn,
            issuer=issuer_url.apply(lambda url: url.removeprefix("https://")),
        )


def _repeated(values: Iterable[str]) -> list[str]:
    """The values that occur more than once, sorted."""
    seen = list(values)
    return sorted({value for value in seen if seen.count(value) > 1})


def _issuer(identities: Sequence[aws.eks.outputs.ClusterIdentity]) -> str:
    """The OIDC issuer URL of the cluster (empty while unknown)."""
    oidcs = (identities[0].oidcs or []) if identities else []
    return (oidcs[0].issuer or "") if oidcs else ""


def kubeconfig(cluster_name: str, endpoint: str, certificate_authority: str, region: str) -> str:
    """A kubeconfig (JSON is YAML) whose credentials come from ``aws eks get-token``.

    No token is stored: each use runs the AWS CLI with the caller's own credentials, which need
    an access entry on the cluster.
    """
    user = f"{cluster_name}-aws"
    document: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": cluster_name,
                "cluster": {
                    "server": endpoint,
                    "certificate-authority-data": certificate_authority,
                },
            }
        ],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": user}}],
        "current-context": cluster_name,
        "users": [
            {
                "name": user,
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "aws",
                        "args": [
                            "eks",
                            "get-token",
                            "--cluster-name",
                            cluster_name,
                            "--region",
                            region,
                            "--output",
                            "json",
                        ],
                        "interactiveMode": "Never",
                    }
                },
            }
        ],
    }
    return json.dumps(document, sort_keys=True)


# Defaults per environment and prod rules

#: Managed add-on versions per Kubernetes minor, one entry for each of ``KUBERNETES_VERSIONS``
#: (a stack's ``cluster.addons`` replaces single versions). Read on 2026-11-29 from the EKS user
#: guide's version tables ("Manage CoreDNS", "Manage kube-proxy": latest add-on version per
#: Kubernetes version), which list what ``aws eks describe-addon-versions --addon-name <name>
#: --kubernetes-version <X>`` returns. vpc-cni, aws-ebs-csi-driver and eks-pod-identity-agent
#: are not tied to a Kubernetes minor and are kept from the earlier pins: to confirm with
#: describe-addon-versions for each version. kube-proxy must carry the cluster's minor version.
ADDON_VERSIONS: dict[str, AddonVersions] = {
    "1.34": AddonVersions(
        vpc_cni="v1.20.4-eksbuild.2",  # to confirm with describe-addon-versions
        coredns="v1.13.2-eksbuild.4",
        kube_proxy="v1.34.6-eksbuild.2",
        aws_ebs_csi_driver="v1.53.0-eksbuild.1",  # to confirm with describe-addon-versions
        eks_pod_identity_agent="v1.3.10-eksbuild.1",  # to confirm with describe-addon-versions
    ),
    "1.35": AddonVersions(
        vpc_cni="v1.20.4-eksbuild.2",  # to confirm with describe-addon-versions
        coredns="v1.13.2-eksbuild.4",
        kube_proxy="v1.35.3-eksbuild.2",
        aws_ebs_csi_driver="v1.53.0-eksbuild.1",  # to confirm with describe-addon-versions
        eks_pod_identity_agent="v1.3.10-eksbuild.1",  # to confirm with describe-addon-versions
    ),
}


def _general_nodes(
    *,
    instance_types: list[str],
    capacity_type: CapacityType,
    min_size: int,
    desired_size: int,
    max_size: int,
    disk_size_gib: int,
) -> NodeGroupSettings:
    """The one node group both environments start with, for every workload."""
    return NodeGroupSettings(
        name="general",
        instance_types=instance_types,
        capacity_type=capacity_type,
        min_size=min_size,
        desired_size=desired_size,
        max_size=max_size,
        disk_size_gib=disk_size_gib,
        labels={"genericcorp.com/workload": "general"},
        taints=[],
    )


def _cluster(
    *, log_retention_days: LogRetentionDays, node_group: NodeGroupSettings
) -> ClusterSettings:
    """What dev and prod share for the cluster. Not validated here: without an administrator
    (which only the stack file can name) the settings are incomplete by design; the loader
    validates them once the stack file is merged over them."""
    return unvalidated(ClusterSettings)(
        version="1.35",
        # Private endpoint only: pulumi and kubectl run from inside the VPC unless a stack file
        # lists its operators' CIDRs.
        endpoint_public_access=False,
        public_access_cidrs=[],
        # No default admin: the stack file names the account's own roles.
        access_entries=[],
        log_retention_days=log_retention_days,
        node_groups=[node_group],
        # The versions of ADDON_VERSIONS for the cluster's version.
        addons=AddonOverrides(),
    )


CLUSTER_DEFAULTS = ByEnvironment(
    dev=_cluster(
        log_retention_days=30,
        node_group=_general_nodes(
            # Graviton, 2 vCPU / 4 GiB: the cheapest size that holds the monitoring stack and a
            # few tenants (two nodes: the platform's pods fill one node's pod slots, the demo
            # tenants need the second). SPOT: two on-demand t4g.medium cost $49.06 a month, two
            # spot ones $14.72 at costModel.spotDiscountPercent (70%) and $19.62 at the low end
            # of the discount (60%). A reclaimed node restarts its pods on the other one within
            # minutes, which dev tolerates (prod refuses SPOT). One type only: the group is
            # priced at its dearest allowed type, and c7g.large or c6g.large would double the
            # node line; dev gives up their spot pools (two pools, one per AZ, instead of six),
            # so a dry t4g pool can leave dev on one node until it refills.
            instance_types=["t4g.medium"],
            capacity_type=CapacityType.SPOT,
            min_size=2,
            desired_size=2,
            max_size=4,
            # The AMI's own 20 GiB: dev pulls few images, and each GiB is $0.08 a month.
            disk_size_gib=20,
        ),
    ),
    prod=_cluster(
        # Control-plane audit logs are kept a year, like the network's.
        log_retention_days=365,
        node_group=_general_nodes(
            # Graviton general purpose (2 vCPU / 8 GiB, $0.0816 an hour): no CPU credits to run
            # out of under sustained load. One node per AZ at least; the autoscaler adds up to
            # three per AZ.
            instance_types=["m7g.large"],
            capacity_type=CapacityType.ON_DEMAND,
            min_size=3,
            desired_size=3,
            max_size=9,
            disk_size_gib=50,
        ),
    ),
)

CLUSTER_PROD_RULES = (
    ProdRule(
        ClusterSettings,
        key=lambda s: [group.capacity_type for group in s.node_groups],
        accepts=lambda types: all(t == PROD_CAPACITY_TYPE for t in types),
        allowed=f'capacityType "{PROD_CAPACITY_TYPE}" for every node group',
        reason="spot capacity is reclaimed at two minutes' notice, all at once when a pool runs "
        "dry, which the 99.9% uptime target cannot absorb",
        policy="eks-node-group-on-demand",
    ),
    ProdRule(
        ClusterSettings,
        key=lambda s: [group.min_size for group in s.node_groups],
        accepts=lambda sizes: max(sizes, default=0) >= 2,
        allowed="a node group with minSize 2 or more",
        reason="with a single node, a node or AZ failure stops every service until a new node "
        "boots",
    ),
    ProdRule(
        ClusterSettings,
        key=lambda s: s.log_retention_days,
        accepts=lambda days: days >= PROD_AUDIT_LOG_RETENTION_DAYS,
        allowed=f"{PROD_AUDIT_LOG_RETENTION_DAYS} or more",
        reason="control-plane audit logs are kept for at least a year",
        policy="cloudwatch-audit-log-retention",
    ),
)
