"""EC2/VPC and KMS controls: default security group, security-group ingress, public IPs, flow
logs, key rotation and deletion windows (prod keys: the longest window)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from genericcorp_policy.framework import (
    Config,
    Props,
    Resource,
    Rule,
    Scope,
    StackRule,
    get,
    is_true,
    items,
    number,
)
from genericcorp_policy.thresholds import PROD_KMS_DELETION_WINDOW_DAYS

SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SUBNET = "aws:ec2/subnet:Subnet"
INSTANCE = "aws:ec2/instance:Instance"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
VPC = "aws:ec2/vpc:Vpc"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
KMS_KEY = "aws:kms/key:Key"

_WORLD = frozenset({"0.0.0.0/0", "::/0"})


def _default_sg_closed(props: Props, _: Config) -> Iterator[str]:
    for direction in ("ingress", "egress"):
        rules = items(get(props, direction))
        if rules:
            yield (
                f"the VPC's default security group has {len(rules)} {direction} rule(s); "
                "it must have none"
            )


def _open_ingress(props: Props, rule_kind: str) -> Iterator[tuple[str, float | None, float | None]]:
    """(protocol, from, to) of every ingress rule of a resource that admits the whole internet."""
    if rule_kind == INGRESS_RULE:
        if {get(props, "cidrIpv4"), get(props, "cidrIpv6")} & _WORLD:
            yield (
                str(get(props, "ipProtocol")),
                number(get(props, "fromPort")),
                number(get(props, "toPort")),
            )
        return
    if rule_kind == SECURITY_GROUP_RULE:
        if get(props, "type") != "ingress":
            return
        candidates = [props]
    else:
        candidates = items(get(props, "ingress"))
    for rule in candidates:
        cidrs = {*items(get(rule, "cidrBlocks")), *items(get(rule, "ipv6CidrBlocks"))}
        if cidrs & _WORLD:
            yield (
                str(get(rule, "protocol")),
                number(get(rule, "fromPort")),
                number(get(rule, "toPort")),
            )


def _ingress_authorised_ports(kind: str):
    def check(props: Props, config: Config) -> Iterator[str]:
        allowed = {float(p) for p in config["authorizedPorts"]}
        for protocol, start, end in _open_ingress(props, kind):
            if protocol in ("-1", "all") or start is None or end is None:
                yield "ingress from 0.0.0.0/0 or ::/0 on all protocols or ports"
                continue
            too_wide = end - start >= len(allowed)
            if too_wide or any(float(p) not in allowed for p in range(int(start), int(end) + 1)):
                yield (
                    f"ingress from 0.0.0.0/0 or ::/0 on ports {int(start)}-{int(end)}; "
                    f"the internet may reach only ports {sorted(int(p) for p in allowed)}"
                )

    return check


def _open_ingress_any(props: Props, config: Config) -> Iterator[str]:
    kind = (
        INGRESS_RULE
        if "ipProtocol" in props
        else SECURITY_GROUP_RULE
        if "type" in props
        else SECURITY_GROUP
    )
    yield from _ingress_authorised_ports(kind)(props, config)


def _no_public_ip(props: Props, _: Config) -> Iterator[str]:
    if is_true(get(props, "mapPublicIpOnLaunch")):
        yield "the subnet assigns public IPs on launch (mapPublicIpOnLaunch)"
    if is_true(get(props, "associatePublicIpAddress")):
        yield "the instance gets a public IP (associatePublicIpAddress)"
    for index, interface in enumerate(items(get(props, "networkInterfaces"))):
        if is_true(get(interface, "associatePublicIpAddress")):
            yield f"networkInterfaces[{index}] associates a public IP"


def _flow_logs(
    vpcs: Sequence[Resource], everything: Sequence[Resource], _: Config
) -> Iterator[tuple[str, str | None]]:
    logged = {get(r.props, "vpcId") for r in everything if r.type == FLOW_LOG}
    for vpc in vpcs:
        if get(vpc.props, "id") not in logged:
            yield f"VPC {vpc.name} has no flow log (aws.ec2.FlowLog with its vpcId)", vpc.urn


def _key_rotation(props: Props, _: Config) -> Iterator[str]:
    symmetric = get(props, "customerMasterKeySpec") in (None, "SYMMETRIC_DEFAULT")
    encrypts = get(props, "keyUsage") in (None, "ENCRYPT_DECRYPT")
    if symmetric and encrypts and not is_true(get(props, "enableKeyRotation")):
        yield "automatic key rotation is off (enableKeyRotation)"


def _deletion_window(props: Props, config: Config) -> Iterator[str]:
    days = number(get(props, "deletionWindowInDays"))
    minimum = config["minimumDays"]
    if days is None:
        yield f"no explicit deletion window (deletionWindowInDays, {minimum}-30 days)"
    elif days < minimum:
        yield f"deletion window of {int(days)} days; at least {minimum} required"


def _prod_deletion_window(props: Props, _: Config) -> Iterator[str]:
    # Unset means AWS's default, 30 days (kms-3-deletion-window asks for it to be explicit).
    days = number(get(props, "deletionWindowInDays"))
    if days is not None and days < PROD_KMS_DELETION_WINDOW_DAYS:
        yield (
            f"deletion window of {int(days)} days; a prod key stays recoverable for "
            f"{PROD_KMS_DELETION_WINDOW_DAYS} (deletionWindowInDays)"
        )


RULES = (
    Rule(
        name="ec2-2-default-sg-closed",
        control="EC2.2",
        description="The VPC's default security group allows no inbound or outbound traffic.",
        types=(DEFAULT_SECURITY_GROUP,),
        check=_default_sg_closed,
        reads=("ingress", "egress"),
    ),
    Rule(
        name="ec2-18-19-open-ingress",
        control="EC2.18/EC2.19",
        description="Security groups admit 0.0.0.0/0 or ::/0 only on authorised ports "
        "(default 80 and 443), never on all ports or high-risk ports.",
        types=(SECURITY_GROUP, DEFAULT_SECURITY_GROUP, INGRESS_RULE, SECURITY_GROUP_RULE),
        check=_open_ingress_any,
        config={
            "authorizedPorts": {
                "type": "array",
                "items": {"type": "integer", "minimum": 0, "maximum": 65535},
                "default": [80, 443],
                "description": "Ports the whole internet may reach.",
            }
        },
        reads=("ingress",),
    ),
    Rule(
        name="ec2-9-15-25-no-public-ip",
        control="EC2.9/EC2.15/EC2.25",
        description="Subnets, instances and launch templates assign no public IP addresses.",
        types=(SUBNET, INSTANCE, LAUNCH_TEMPLATE),
        check=_no_public_ip,
        reads=("mapPublicIpOnLaunch", "associatePublicIpAddress", "networkInterfaces"),
    ),
    Rule(
        name="kms-4-rotation",
        control="KMS.4",
        description="Symmetric encryption keys rotate automatically.",
        types=(KMS_KEY,),
        check=_key_rotation,
        reads=("customerMasterKeySpec", "keyUsage", "enableKeyRotation"),
    ),
    Rule(
        name="kms-3-deletion-window",
        control="KMS.3",
        description="Keys set an explicit deletion window, so a key scheduled for deletion by "
        "mistake stays recoverable.",
        types=(KMS_KEY,),
        check=_deletion_window,
        config={
            "minimumDays": {
                "type": "integer",
                "minimum": 7,
                "maximum": 30,
                "default": 7,
                "description": "Shortest deletion window accepted (AWS allows 7-30 days).",
            }
        },
        reads=("deletionWindowInDays",),
    ),
    Rule(
        name="kms-prod-deletion-window",
        control="",
        description=f"Prod keys stay recoverable for {PROD_KMS_DELETION_WINDOW_DAYS} days after "
        "they are scheduled for deletion, the longest window AWS offers.",
        types=(KMS_KEY,),
        check=_prod_deletion_window,
        scope=Scope.PROD,
        reads=("deletionWindowInDays",),
    ),
)

STACK_RULES = (
    StackRule(
        name="ec2-6-vpc-flow-logs",
        control="EC2.6",
        description="Every VPC records flow logs.",
        subjects=(VPC,),
        check=_flow_logs,
        scope=Scope.PROD_WAIVABLE,
    ),
)
