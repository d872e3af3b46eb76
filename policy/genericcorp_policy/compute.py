"""EKS and EC2 compute controls: endpoint exposure, Kubernetes version, secrets encryption,
control-plane logging, IMDSv2 and encrypted volumes on node launch templates, on-demand prod
nodes."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from genericcorp_policy.framework import Config, Props, Rule, Scope, get, is_false, is_true, items
from genericcorp_policy.thresholds import PROD_CAPACITY_TYPE

EKS_CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
INSTANCE = "aws:ec2/instance:Instance"
EBS_VOLUME = "aws:ebs/volume:Volume"

#: Kubernetes minors in EKS standard support on 2026-11-25. EKS gives each minor 14 months of
#: standard support from its EKS release: 1.33 (EKS release May 2025) left it in July 2026, 1.34
#: (October 2025) keeps it until about December 2026. The newest minor is listed as soon as the
#: upstream release exists, since EKS refuses a version it does not offer yet. Update this list
#: (or the pack config) from the EKS Kubernetes release calendar when a minor leaves.
STANDARD_SUPPORT_VERSIONS = ("1.34", "1.35", "1.36", "1.37")


def _public_cidr_problems(cidrs: list[str], allowed: list[str]) -> Iterator[str]:
    if not cidrs:
        yield "public endpoint open to the default 0.0.0.0/0 (publicAccessCidrs not set)"
        return
    networks = []
    for cidr in cidrs:
        try:
            networks.append(ipaddress.ip_network(cidr, strict=False))
        except ValueError:
            yield f"publicAccessCidrs holds {cidr!r}, not a CIDR"
    for network in networks:
        if network.prefixlen == 0:
            yield f"public endpoint open to the whole internet ({network})"
        elif allowed and not any(
            network.version == ipaddress.ip_network(a, strict=False).version
            and network.subnet_of(ipaddress.ip_network(a, strict=False))  # type: ignore[arg-type]
            for a in allowed
        ):
            yield f"public endpoint CIDR {network} is outside the allowed list {allowed}"


def _endpoint(props: Props, config: Config) -> Iterator[str]:
    vpc = get(props, "vpcConfig")
    # AWS's defaults are a public endpoint open to 0.0.0.0/0 and no private endpoint.
    if not is_true(get(vpc, "endpointPrivateAccess")):
        yield (
            "the private endpoint is off (vpcConfig.endpointPrivateAccess); nodes would reach "
            "the API server over the internet"
        )
    if is_false(get(vpc, "endpointPublicAccess")):
        return
    cidrs = [str(c) for c in items(get(vpc, "publicAccessCidrs"))]
    yield from _public_cidr_problems(cidrs, list(config["allowedPublicCidrs"]))


def _version(props: Props, config: Config) -> Iterator[str]:
    version = get(props, "version")
    supported = list(config["supportedVersions"])
    if version is None:
        yield "no Kubernetes version pinned (version); EKS would pick one on create"
    elif str(version) not in supported:
        yield f"Kubernetes {version} is not in standard support (supported: {', '.join(supported)})"


def _secrets_encryption(props: Props, _: Config) -> Iterator[str]:
    config = get(props, "encryptionConfig")
    if not get(config, "provider.keyArn") or "secrets" not in [
        str(r) for r in items(get(config, "resources"))
    ]:
        yield "Kubernetes secrets are not envelope-encrypted with a KMS key (encryptionConfig)"


def _logging(props: Props, config: Config) -> Iterator[str]:
    enabled = {str(t) for t in items(get(props, "enabledClusterLogTypes"))}
    missing = [t for t in config["requiredLogTypes"] if t not in enabled]
    if missing:
        yield f"control-plane log types not enabled: {', '.join(missing)} (enabledClusterLogTypes)"


def _imdsv2(props: Props, _: Config) -> Iterator[str]:
    if get(props, "metadataOptions.httpTokens") != "required":
        yield 'IMDSv2 is not required (metadataOptions.httpTokens must be "required")'


def _node_group_template(props: Props, _: Config) -> Iterator[str]:
    template = get(props, "launchTemplate")
    if not (get(template, "id") or get(template, "name")):
        yield (
            "the node group has no launch template, so IMDSv2 and root-volume encryption are "
            "left to EKS defaults"
        )


def _capacity_type(props: Props, _: Config) -> Iterator[str]:
    capacity = get(props, "capacityType")  # unset: EKS's default, ON_DEMAND
    if capacity is not None and str(capacity) != PROD_CAPACITY_TYPE:
        yield (
            f"a prod node group runs on {capacity} capacity, which AWS reclaims at two minutes' "
            f"notice (capacityType must be {PROD_CAPACITY_TYPE})"
        )


def _volumes_encrypted(props: Props, _: Config) -> Iterator[str]:
    for index, mapping in enumerate(items(get(props, "blockDeviceMappings"))):
        ebs = get(mapping, "ebs")
        if ebs is not None and not is_true(get(ebs, "encrypted")):
            yield f"blockDeviceMappings[{index}] ({get(mapping, 'deviceName')}) is not encrypted"
    root = get(props, "rootBlockDevice")
    if root is not None and not is_true(get(root, "encrypted")):
        yield "rootBlockDevice is not encrypted"
    for index, device in enumerate(items(get(props, "ebsBlockDevices"))):
        if not is_true(get(device, "encrypted")):
            yield f"ebsBlockDevices[{index}] is not encrypted"


def _volume_encrypted(props: Props, _: Config) -> Iterator[str]:
    if not is_true(get(props, "encrypted")):
        yield "the EBS volume is not encrypted (encrypted)"


RULES = (
    Rule(
        name="eks-1-endpoint-not-public",
        control="EKS.1",
        description="The cluster API has a private endpoint; a public endpoint, if kept, is "
        "restricted to listed CIDRs and never 0.0.0.0/0.",
        types=(EKS_CLUSTER,),
        check=_endpoint,
        config={
            "allowedPublicCidrs": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "description": "When not empty, every public-endpoint CIDR must lie inside one "
                "of these.",
            }
        },
        reads=("vpcConfig",),
    ),
    Rule(
        name="eks-2-supported-version",
        control="EKS.2",
        description="The cluster runs a Kubernetes version in EKS standard support.",
        types=(EKS_CLUSTER,),
        check=_version,
        config={
            "supportedVersions": {
                "type": "array",
                "items": {"type": "string"},
                "minItems": 1,
                "default": list(STANDARD_SUPPORT_VERSIONS),
                "description": "Kubernetes minor versions in EKS standard support.",
            }
        },
        reads=("version",),
    ),
    Rule(
        name="eks-3-secrets-encrypted",
        control="EKS.3",
        description="Kubernetes secrets are encrypted with a KMS key.",
        types=(EKS_CLUSTER,),
        check=_secrets_encryption,
        reads=("encryptionConfig",),
    ),
    Rule(
        name="eks-8-audit-logging",
        control="EKS.8",
        description="Control-plane audit logging is on (default: every log type).",
        types=(EKS_CLUSTER,),
        check=_logging,
        config={
            "requiredLogTypes": {
                "type": "array",
                "items": {
                    "type": "string",
                    "enum": ["api", "audit", "authenticator", "controllerManager", "scheduler"],
                },
                "minItems": 1,
                "default": ["api", "audit", "authenticator", "controllerManager", "scheduler"],
                "description": "Control-plane log types that must be enabled.",
            }
        },
        reads=("enabledClusterLogTypes",),
    ),
    Rule(
        name="ec2-8-170-imdsv2",
        control="EC2.8/EC2.170",
        description="Launch templates and instances require IMDSv2 (session tokens).",
        types=(LAUNCH_TEMPLATE, INSTANCE),
        check=_imdsv2,
        reads=("metadataOptions",),
    ),
    Rule(
        name="eks-node-group-launch-template",
        control="EC2.8/EC2.181",
        description="Managed node groups use a launch template, where IMDSv2 and volume "
        "encryption are set.",
        types=(NODE_GROUP,),
        check=_node_group_template,
        reads=("launchTemplate",),
    ),
    Rule(
        name="eks-node-group-on-demand",
        control="",
        description="Prod managed node groups run on on-demand capacity, never spot.",
        types=(NODE_GROUP,),
        check=_capacity_type,
        scope=Scope.PROD,
        reads=("capacityType",),
    ),
    Rule(
        name="ec2-3-181-ebs-encrypted",
        control="EC2.3/EC2.181",
        description="EBS volumes, node root volumes included, are encrypted.",
        types=(LAUNCH_TEMPLATE, INSTANCE),
        check=_volumes_encrypted,
        reads=("blockDeviceMappings", "rootBlockDevice", "ebsBlockDevices"),
    ),
    Rule(
        name="ec2-3-ebs-volume-encrypted",
        control="EC2.3",
        description="Standalone EBS volumes are encrypted.",
        types=(EBS_VOLUME,),
        check=_volume_encrypted,
        reads=("encrypted",),
    ),
)
