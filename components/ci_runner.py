"""CiRunner: the deploy path into the private cluster, a GitHub Actions runner inside the VPC.

The cluster's API endpoint is private, so every job that touches Kubernetes (the preview of the
Kubernetes half, ``pulumi up``, the drift check's refresh) must run inside the VPC. This declares,
when ``ci.runner.enabled``:

- a security group for the runner with no ingress and one egress rule, HTTPS: GitHub (the
  runner's job queue, actions, the pulumi CLI), the AWS APIs (through the NAT gateways: the VPC has
  no interface endpoints) and the cluster endpoint; DNS to the VPC resolver is not filtered by
  security groups;
- a rule on the cluster security group admitting the runner's group on 443 alone: the private
  endpoint's network interfaces carry that group;
- an encrypted log group (a key of its own, a retention period) for the runner's logs;
- the runner's IAM role, which CodeBuild alone may assume, for this project alone: it may write
  its logs, manage the network interfaces of its builds in the chosen subnets and read the
  GitHub connection's token. It has no other AWS permission and no access entry: jobs work as
  the role they assume through GitHub's OIDC token (docs/deploying.md, "Why this design");
- ``aws.codebuild.Project`` (source GITHUB through the CodeConnections connection, the chosen
  image and compute type, the private subnets), and ``aws.codebuild.Webhook`` filtered on
  ``WORKFLOW_JOB_QUEUED`` for the repository's own workflows: each queued job whose ``runs-on``
  is ``codebuild-<project>-${{ github.run_id }}-${{ github.run_attempt }}`` starts a build that
  registers a one-job runner.

And, whatever the runner: an access entry with cluster-admin for each CI role the settings name
(``deployRoleArn``, ``previewRoleArn``): the roles GitHub's OIDC tokens assume, which run pulumi.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Self

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator, model_validator

from components.base import (
    ByEnvironment,
    PlatformComponent,
    SettingsModel,
    policy_document,
    static_policy_document,
)
from components.cost import CostLine, PriceCatalog
from components.eks_cluster import AccessPolicy, EksCluster
from components.kms_key import KmsKey
from components.shared.logs import LogRetentionDays, encrypted_log_group
from components.shared.wiring import Wiring

#: The workflows (their ``name:``) whose jobs may start the runner: the webhook's
#: ``WORKFLOW_NAME`` filter. A job of any other workflow is never given a runner in the VPC.
RUNNER_WORKFLOWS = ("pull-request", "deploy", "drift")

#: An IAM role ARN, never an assumed-role session, a user or a service principal.
ROLE_ARN = re.compile(r"^arn:aws:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
#: A CodeConnections (or its former name, CodeStar Connections) connection ARN.
CONNECTION_ARN = re.compile(
    r"^arn:aws:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection/[\w-]+$"
)
#: ``owner/name`` of a GitHub repository.
GITHUB_REPOSITORY = re.compile(r"^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$")


class ComputeType(StrEnum):
    """CodeBuild Linux compute types offered for the runner (priced in the catalog)."""

    SMALL = "BUILD_GENERAL1_SMALL"
    """2 vCPUs, 3 GiB."""
    MEDIUM = "BUILD_GENERAL1_MEDIUM"
    """4 vCPUs, 7 GiB."""

    @property
    def price_key(self) -> str:
        return {
            ComputeType.SMALL: "codebuild.linux.general1-small",
            ComputeType.MEDIUM: "codebuild.linux.general1-medium",
        }[self]


def check_role_arn(arn: str) -> str:
    if not ROLE_ARN.match(arn):
        raise ValueError(
            "must be an IAM role ARN, arn:aws:iam::<12-digit account>:role/<name>, such as "
            "arn:aws:iam::123456789012:role/github-deploy-dev (not a user, an assumed-role "
            "session or a service principal: EKS grants the role, and GitHub's OIDC token "
            "assumes a role)"
        )
    return arn


class RunnerSettings(SettingsModel):
    """The CodeBuild-hosted GitHub Actions runner in the stack's private subnets."""

    enabled: bool = Field(
        description="Declare the runner. Without it nothing outside the VPC can reach a private "
        "cluster endpoint: the Kubernetes half cannot be deployed from GitHub-hosted runners."
    )
    github_repository: str | None = Field(
        description="owner/name of the GitHub repository whose workflows the runner serves."
    )
    connection_arn: str | None = Field(
        description="ARN of an AVAILABLE CodeConnections connection to GitHub (created and "
        "authorised in the console before the first deploy: docs/deploying.md)."
    )
    compute_type: ComputeType = Field(
        description="CodeBuild compute type: BUILD_GENERAL1_SMALL (2 vCPU, 3 GiB) or "
        "BUILD_GENERAL1_MEDIUM (4 vCPU, 7 GiB)."
    )
    image: str = Field(
        min_length=1,
        description="CodeBuild image. aws/codebuild/standard:7.0 is Ubuntu 22.04, for which "
        "actions/setup-python downloads Python; it carries the AWS CLI the kubeconfig calls.",
    )
    timeout_minutes: int = Field(
        ge=5, le=480, description="Minutes after which CodeBuild stops a runner (5-480)."
    )
    subnet_cidrs: list[str] | None = Field(
        description="The private subnets (by CIDR) the runner runs in; null for all of them. "
        "Each must be one of the stack's private subnets."
    )
    log_retention_days: LogRetentionDays = Field(
        description="Days CloudWatch Logs keeps the runner's logs."
    )
    build_minutes_per_month: float | None = Field(
        ge=0,
        description="Runner minutes a month, for the estimate (null: not given, left out).",
    )

    @field_validator("github_repository")
    @classmethod
    def _repository(cls, repository: str | None) -> str | None:
        if repository is not None and not GITHUB_REPOSITORY.match(repository):
            raise ValueError("must be owner/name of a GitHub repository, e.g. genericcorp/platform")
        return repository

    @field_validator("connection_arn")
    @classmethod
    def _connection(cls, arn: str | None) -> str | None:
        if arn is not None and not CONNECTION_ARN.match(arn):
            raise ValueError(
                "must be a CodeConnections connection ARN, arn:aws:codeconnections:<region>:"
                "<account>:connection/<id>"
            )
        return arn

    @field_validator("subnet_cidrs")
    @classmethod
    def _cidrs(cls, cidrs: list[str] | None) -> list[str] | None:
        if cidrs is None:
            return None
        if not cidrs:
            raise ValueError("list at least one private subnet, or null for all of them")
        for cidr in cidrs:
            try:
                ipaddress.IPv4Network(cidr)
            except ValueError as error:
                raise ValueError(f"{cidr!r} is not an IPv4 CIDR ({error})") from None
        if len(set(cidrs)) != len(cidrs):
            raise ValueError("each subnet may appear once")
        return cidrs

    def source(self) -> tuple[str, str]:
        """The repository and the connection of an enabled runner (the validator below makes
        sure an enabled runner has both)."""
        if self.github_repository is None or self.connection_arn is None:
            raise ValueError("a runner without githubRepository and connectionArn is not enabled")
        return self.github_repository, self.connection_arn

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.enabled and (self.github_repository is None or self.connection_arn is None):
            raise ValueError(
                "an enabled runner needs githubRepository and connectionArn: the webhook is "
                "registered on that repository through that connection"
            )
        return self


class CiSettings(SettingsModel):
    """How CI reaches the stack: the runner inside the VPC, and the roles its jobs run as."""

    runner: RunnerSettings = Field(description="The GitHub Actions runner inside the VPC.")
    deploy_role_arn: str | None = Field(
        description="IAM role the deploy workflow assumes for this stack (GitHub OIDC); given "
        "cluster-admin through an access entry, since it deploys the Kubernetes half."
    )
    preview_role_arn: str | None = Field(
        description="IAM role the pull-request preview and the drift check assume; given "
        "cluster-admin through an access entry: a preview of Kubernetes objects is a "
        "server-side dry run, which the API server authorises as the write itself."
    )

    @field_validator("deploy_role_arn", "preview_role_arn")
    @classmethod
    def _role(cls, arn: str | None) -> str | None:
        return None if arn is None else check_role_arn(arn)

    @property
    def role_arns(self) -> tuple[str, ...]:
        """The CI roles that get an access entry, each once."""
        arns = (self.deploy_role_arn, self.preview_role_arn)
        return tuple(dict.fromkeys(arn for arn in arns if arn is not None))


def runner_label(project_name: str) -> str:
    """The ``runs-on`` label that routes a job to the project: CodeBuild starts one build per
    queued job whose label names the project, and GitHub gives the job to that build's runner."""
    return f"codebuild-{project_name}-${{{{ github.run_id }}}}-${{{{ github.run_attempt }}}}"


@dataclass(frozen=True)
class CiRunnerParts:
    """What ``CiRunner`` declares, from its settings alone."""

    settings: CiSettings

    logs_key_purpose: ClassVar[str] = "ci-runner-logs"
    """The key of the runner's log group (CloudWatch Logs may use only its own key)."""

    @property
    def runner(self) -> bool:
        return self.settings.runner.enabled

    @property
    def key_purposes(self) -> tuple[str, ...]:
        return (self.logs_key_purpose,) if self.runner else ()

    def cost_lines(self, catalog: PriceCatalog) -> list[CostLine]:
        """The runner's build minutes and its log group's key. The project, webhook, role and
        security group cost nothing; the logs are a few MB a month."""
        if not self.runner:
            return []
        runner = self.settings.runner
        component = CiRunner.COMPONENT
        return [
            CostLine.usage(
                component,
                "CI runner build minutes",
                catalog.price(
                    runner.compute_type.price_key, resource="aws:codebuild/project:Project"
                ),
                runner.build_minutes_per_month,
                note=f"{runner.compute_type}, billed per minute while a job runs; the 100 free "
                "minutes a month are not deducted",
            ),
            *KmsKey.cost_lines(component, catalog, purposes=self.key_purposes),
        ]


class CiRunner(PlatformComponent):
    """The runner inside the VPC and the access entries of the CI roles.

    Steps: the CI roles' access entries; then, with the runner on: its security group and the
    cluster's rule admitting it; its log group; its role; the CodeBuild project; the webhook.
    """

    TYPE: ClassVar[str] = "genericcorp:ci:CiRunner"
    COMPONENT: ClassVar[str] = "ci"
    access: list[pulumi.Resource]
    """The CI roles' access entries and policies: CI's Kubernetes calls wait for these."""

    OUTPUTS: ClassVar[Mapping[str, str]] = {
        "runnerLabel": "The runs-on label of every workflow job that touches the cluster "
        "(codebuild-<project>-${{ github.run_id }}-${{ github.run_attempt }}); null without "
        "a runner.",
        "projectName": "CodeBuild project that hosts the runner (null without one).",
        "roleArn": "The runner's own role (no cluster access; null without a runner).",
        "securityGroupId": "The runner's security group (null without a runner).",
        "accessEntries": "CI roles given cluster-admin through an access entry.",
    }

    def __init__(
        self,
        name: str,
        parts: CiRunnerParts,
        *,
        wiring: Wiring,
        cluster: EksCluster,
        vpc_id: pulumi.Input[str],
        subnet_ids: pulumi.Input[Sequence[str]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """``subnet_ids``: the private subnets the runner may use (already narrowed to
        ``runner.subnetCidrs``)."""
        super().__init__(name, context=wiring.context, opts=opts)
        self.access = self._access_entries(parts, cluster)
        project_name = self.context.physical_name("ci-runner")
        outputs: dict[str, Any] = dict.fromkeys(
            ("runnerLabel", "projectName", "roleArn", "securityGroupId")
        )
        if parts.runner:
            group = self._security_group(vpc_id, cluster)
            log_group = encrypted_log_group(
                self,
                f"{name}-logs",
                log_group_name=self.context.path("ci-runner"),
                retention_days=parts.settings.runner.log_retention_days,
                kms=wiring.kms,
                purpose=parts.logs_key_purpose,
                description="encrypts the CI runner's log group",
                statement_sid="CloudWatchLogsEncryptsRunnerLogs",
                tag="ci-runner-logs",
            )
            role = self._role(parts, project_name, log_group, subnet_ids)
            project = self._project(
                parts,
                project_name,
                role=role,
                log_group=log_group,
                group=group,
                vpc_id=vpc_id,
                subnet_ids=subnet_ids,
            )
            aws.codebuild.Webhook(
                f"{name}-webhook",
                project_name=project.name,
                build_type="BUILD",
                filter_groups=[
                    aws.codebuild.WebhookFilterGroupArgs(
                        filters=[
                            aws.codebuild.WebhookFilterGroupFilterArgs(
                                type="EVENT", pattern="WORKFLOW_JOB_QUEUED"
                            ),
                            # Only the repository's own deploy workflows get a runner here.
                            aws.codebuild.WebhookFilterGroupFilterArgs(
                                type="WORKFLOW_NAME",
                                pattern="^(" + "|".join(RUNNER_WORKFLOWS) + ")$",
                            ),
                        ]
                    )
                ],
                opts=self.child_opts(),
            )
            outputs = {
                "runnerLabel": runner_label(project_name),
                "projectName": project.name,
                "roleArn": role.arn,
                "securityGroupId": group.id,
            }
        self.publish({**outputs, "accessEntries": list(parts.settings.role_arns)})

    def _access_entries(self, parts: CiRunnerParts, cluster: EksCluster) -> list[pulumi.Resource]:
        """cluster-admin for each CI role: they run pulumi, which installs CRDs, cluster roles
        and webhooks, and previews them by server-side dry run."""
        access: list[pulumi.Resource] = []
        for index, arn in enumerate(parts.settings.role_arns):
            label = f"{self._name}-ci-role-{index}"
            entry = aws.eks.AccessEntry(
                label,
                cluster_name=cluster.name,
                principal_arn=arn,
                type="STANDARD",
                tags=self.tags(f"ci-role-{index}"),
                opts=self.child_opts(),
            )
            association = aws.eks.AccessPolicyAssociation(
                f"{label}-{AccessPolicy.CLUSTER_ADMIN}",
                cluster_name=cluster.name,
                principal_arn=entry.principal_arn,
                policy_arn=AccessPolicy.CLUSTER_ADMIN.arn,
                access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                opts=self.child_opts(),
            )
            access += [entry, association]
        return access

    def _security_group(
        self, vpc_id: pulumi.Input[str], cluster: EksCluster
    ) -> aws.ec2.SecurityGroup:
        """No ingress; HTTPS out only. The cluster's group admits it on 443."""
        group = aws.ec2.SecurityGroup(
            f"{self._name}-sg",
            name=self.context.physical_name("ci-runner"),
            description="CI runner: no ingress, HTTPS egress only",
            vpc_id=vpc_id,
            tags=self.tags("ci-runner"),
            opts=self.child_opts(),
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{self._name}-https-out",
            security_group_id=group.id,
            description="HTTPS: GitHub and the AWS APIs through NAT, the cluster endpoint",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4="0.0.0.0/0",
            tags=self.tags("ci-runner-https-out"),
            opts=self.child_opts(),
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{self._name}-to-cluster-api",
            security_group_id=cluster.cluster_security_group_id,
            description="Kubernetes API from the CI runner",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            referenced_security_group_id=group.id,
            tags=self.tags("ci-runner-to-cluster-api"),
            opts=self.child_opts(),
        )
        return group

    def _role(
        self,
        parts: CiRunnerParts,
        project_name: str,
        log_group: aws.cloudwatch.LogGroup,
        subnet_ids: pulumi.Input[Sequence[str]],
    ) -> aws.iam.Role:
        """What a CodeBuild build in a VPC needs, for this project alone, and nothing more."""
        context = self.context
        _, connection_arn = parts.settings.runner.source()
        connection_service = connection_arn.split(":")[2]
        role = aws.iam.Role(
            f"{self._name}-role",
            description="The CI runner's CodeBuild service role (no cluster access).",
            assume_role_policy=static_policy_document(
                [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "codebuild.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                        "Condition": {
                            "StringEquals": {
                                "aws:SourceAccount": context.account_id,
                                "aws:SourceArn": context.arn(
                                    "codebuild", f"project/{project_name}"
                                ),
                            }
                        },
                    }
                ]
            ),
            tags=self.tags("ci-runner"),
            opts=self.child_opts(),
        )
        subnet_arns = pulumi.Output.from_input(subnet_ids).apply(
            lambda ids: [context.arn("ec2", f"subnet/{subnet}") for subnet in ids]
        )
        self._role_policy = aws.iam.RolePolicy(
            f"{self._name}-role-policy",
            role=role.id,
            policy=policy_document(
                [
                    {
                        "Sid": "WriteItsLogs",
                        "Effect": "Allow",
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "Resource": log_group.arn.apply(lambda arn: f"{arn}:*"),
                    },
                    {
                        # CodeBuild's documented VPC permissions; these actions take no
                        # resource-level restriction.
                        "Sid": "BuildNetworkInterfaces",
                        "Effect": "Allow",
                        "Action": [
                            "ec2:CreateNetworkInterface",
                            "ec2:DescribeDhcpOptions",
                            "ec2:DescribeNetworkInterfaces",
                            "ec2:DeleteNetworkInterface",
                            "ec2:DescribeSubnets",
                            "ec2:DescribeSecurityGroups",
                            "ec2:DescribeVpcs",
                        ],
                        "Resource": "*",
                    },
                    {
                        "Sid": "InterfacesInItsSubnetsOnly",
                        "Effect": "Allow",
                        "Action": "ec2:CreateNetworkInterfacePermission",
                        "Resource": context.arn("ec2", "network-interface/*"),
                        "Condition": {
                            "StringEquals": {"ec2:AuthorizedService": "codebuild.amazonaws.com"},
                            "ArnEquals": {"ec2:Subnet": subnet_arns},
                        },
                    },
                    {
                        "Sid": "UseTheGitHubConnection",
                        "Effect": "Allow",
                        "Action": [
                            f"{connection_service}:GetConnectionToken",
                            f"{connection_service}:GetConnection",
                        ],
                        "Resource": connection_arn,
                    },
                ]
            ),
            opts=self.child_opts(),
        )
        return role

    def _project(
        self,
        parts: CiRunnerParts,
        project_name: str,
        *,
        role: aws.iam.Role,
        log_group: aws.cloudwatch.LogGroup,
        group: aws.ec2.SecurityGroup,
        vpc_id: pulumi.Input[str],
        subnet_ids: pulumi.Input[Sequence[str]],
    ) -> aws.codebuild.Project:
        runner = parts.settings.runner
        repository, connection_arn = runner.source()
        return aws.codebuild.Project(
            f"{self._name}-project",
            name=project_name,
            description="GitHub Actions runner inside the VPC for jobs that reach the cluster",
            service_role=role.arn,
            build_timeout=runner.timeout_minutes,
            source=aws.codebuild.ProjectSourceArgs(
                type="GITHUB",
                location=f"https://github.com/{repository}.git",
                auth=aws.codebuild.ProjectSourceAuthArgs(
                    type="CODECONNECTIONS", resource=connection_arn
                ),
            ),
            artifacts=aws.codebuild.ProjectArtifactsArgs(type="NO_ARTIFACTS"),
            environment=aws.codebuild.ProjectEnvironmentArgs(
                type="LINUX_CONTAINER",
                compute_type=str(runner.compute_type),
                image=runner.image,
                image_pull_credentials_type="CODEBUILD",
                privileged_mode=False,
            ),
            vpc_config=aws.codebuild.ProjectVpcConfigArgs(
                vpc_id=vpc_id, subnets=subnet_ids, security_group_ids=[group.id]
            ),
            logs_config=aws.codebuild.ProjectLogsConfigArgs(
                cloudwatch_logs=aws.codebuild.ProjectLogsConfigCloudwatchLogsArgs(
                    status="ENABLED", group_name=log_group.name
                ),
                s3_logs=aws.codebuild.ProjectLogsConfigS3LogsArgs(status="DISABLED"),
            ),
            tags=self.tags("ci-runner"),
            # CodeBuild checks, when it creates a project in a VPC, that the service role may
            # describe the VPC's security groups and subnets: the role's policy comes first.
            opts=self.child_opts(depends_on=[log_group, self._role_policy]),
        )


# Defaults per environment and prod rules


def _ci(*, log_retention_days: LogRetentionDays) -> CiSettings:
    """What dev and prod share. The runner is off until the stack file names the repository
    and the connection, which only it can (like the cluster's administrators)."""
    return CiSettings(
        runner=RunnerSettings(
            enabled=False,
            github_repository=None,
            connection_arn=None,
            # 2 vCPU / 3 GiB: pulumi with the Python program and its plugins fits; MEDIUM
            # doubles the price per minute.
            compute_type=ComputeType.SMALL,
            image="aws/codebuild/standard:7.0",
            # Prod's deploy job may take 90 minutes (cluster and node groups); the runner
            # must outlive it.
            timeout_minutes=120,
            subnet_cidrs=None,
            log_retention_days=log_retention_days,
            # About 20 jobs a day of 15 minutes on working days is 6,000; half that is a
            # reasonable start. The stack files say what they expect.
            build_minutes_per_month=None,
        ),
        deploy_role_arn=None,
        preview_role_arn=None,
    )


CI_DEFAULTS = ByEnvironment(
    dev=_ci(log_retention_days=30),
    # The runner's logs record who deployed what to prod: kept a year, like the audit logs.
    prod=_ci(log_retention_days=365),
)
