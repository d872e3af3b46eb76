"""The shared ingress in both stacks: one load balancer group with the platform's parameters, its
certificate, access logs, firewall and DNS automation, and the admission policy that keeps each
tenant's Ingress on its own hostname (evaluated here with a CEL interpreter)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import celpy  # pyright: ignore[reportMissingTypeStubs]
import pytest
from celpy import celtypes  # pyright: ignore[reportMissingTypeStubs]
from celpy.adapter import json_to_cel  # pyright: ignore[reportMissingTypeStubs]

from components.ingress import (
    ELB_LOG_DELIVERY_ACCOUNTS,
    EXTERNAL_DNS_RECORD_TYPES,
    GROUP_TAG,
    INGRESS_CLASS,
    INGRESS_CONTROLLER,
    IngressParts,
    admission_policy_spec,
    admission_rules,
    admission_variables,
    binding_spec,
)
from components.shared.waf import MANAGED_RULE_GROUPS, WAF_LOGGED_ACTIONS
from infra.config import ConfigError, parse_stack_config
from infractl.offline.plan import Plan, PlannedResource
from tests.conftest import minimal_values, policy, region_of, stack_config, statements

INGRESS = "genericcorp:ingress"
PARAMS = "kubernetes:elbv2.k8s.aws/v1beta1:IngressClassParams"
INGRESS_CLASS_TYPE = "kubernetes:networking.k8s.io/v1:IngressClass"
K8S_INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
BUCKET = "aws:s3/bucket:Bucket"
APPS = {"dev": "app.dev.genericcorp.com", "prod": "app.genericcorp.com"}
GROUPS = {"dev": "genericcorp-dev-ingress", "prod": "genericcorp-prod-ingress"}


def attributes(plan: Plan) -> dict[str, Any]:
    spec = plan.one(PARAMS).inputs["spec"]
    return {item["key"]: item["value"] for item in spec["loadBalancerAttributes"]}


def in_bucket(plan: Plan, type_token: str, bucket: PlannedResource) -> PlannedResource:
    [found] = [r for r in plan.of_type(type_token) if r.inputs["bucket"] == bucket.id]
    return found


# --- the parameters and the class -------------------------------------------------------------


def test_one_internet_facing_group_in_the_public_subnets_with_a_modern_tls_policy(
    plan: Plan,
) -> None:
    params = plan.one(PARAMS)
    spec = params.inputs["spec"]
    assert spec["group"] == {"name": GROUPS[plan.stack]}
    assert spec["scheme"] == "internet-facing"
    assert spec["sslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert spec["subnets"] == {"ids": plan.outputs["network"]["publicSubnetIds"]}
    assert {"key": GROUP_TAG, "value": GROUPS[plan.stack]} in spec["tags"]
    # The CRD is installed by the controller's chart: the parameters wait for its release.
    controller = [
        r
        for r in plan.of_type("kubernetes:helm.sh/v3:Release")
        if r.inputs["name"] == "aws-load-balancer-controller"
    ]
    assert controller[0].urn in params.dependencies


def test_every_ingress_of_the_class_gets_the_certificate_and_so_listens_on_https(
    plan: Plan,
) -> None:
    """Tenants may not set listen-ports or certificate-arn: the controller puts an Ingress on
    HTTPS 443 only when it has an explicit certificate, which the class's parameters give."""
    spec = plan.one(PARAMS).inputs["spec"]
    assert spec["certificateArn"] == [plan.outputs["ingress"]["certificateArn"]]


def test_the_parameters_wait_for_the_access_log_bucket_policy(plan: Plan) -> None:
    """ELB refuses access logs to a bucket whose policy does not admit its log delivery yet."""
    policy_urn = plan.named("ingress-access-logs-policy", "aws:s3/bucketPolicy:BucketPolicy").urn
    assert policy_urn in plan.one(PARAMS).dependencies


def test_the_load_balancer_attributes_follow_the_settings(plan: Plan) -> None:
    found = attributes(plan)
    bucket = plan.named("ingress-access-logs", BUCKET)
    assert found == {
        "idle_timeout.timeout_seconds": "600",
        "access_logs.s3.enabled": "true",
        "access_logs.s3.bucket": bucket.inputs["bucket"],
        "access_logs.s3.prefix": "alb",
        "routing.http.drop_invalid_header_fields.enabled": "true",
        "deletion_protection.enabled": "true" if plan.stack == "prod" else "false",
    } | ({"waf.fail_open.enabled": "true"} if plan.stack == "prod" else {})


def test_the_idle_timeout_is_the_configured_one() -> None:
    config = parse_stack_config(
        "dev", minimal_values("dev", {INGRESS: {"idleTimeoutSeconds": 3600}})
    )
    parts = IngressParts(config.ingress)
    assert parts.load_balancer_attributes["idle_timeout.timeout_seconds"] == "3600"


def test_the_default_class_is_the_only_class_and_binds_the_parameters(plan: Plan) -> None:
    [ingress_class] = plan.of_type(INGRESS_CLASS_TYPE)
    assert ingress_class.inputs["metadata"]["name"] == INGRESS_CLASS
    annotations = ingress_class.inputs["metadata"]["annotations"]
    assert annotations == {"ingressclass.kubernetes.io/is-default-class": "true"}
    assert ingress_class.inputs["spec"] == {
        "controller": INGRESS_CONTROLLER,
        "parameters": {
            "apiGroup": "elbv2.k8s.aws",
            "kind": "IngressClassParams",
            "name": plan.one(PARAMS).inputs["metadata"]["name"],
        },
    }
    # The controller chart's own "alb" class is off, and targets are pod IPs.
    [controller] = [
        r
        for r in plan.of_type("kubernetes:helm.sh/v3:Release")
        if r.inputs["name"] == "aws-load-balancer-controller"
    ]
    assert controller.inputs["values"]["createIngressClassResource"] is False
    assert controller.inputs["values"]["defaultTargetType"] == "ip"


def test_the_anchor_redirects_http_serves_the_certificate_and_answers_404(plan: Plan) -> None:
    anchor = plan.one(K8S_INGRESS)
    annotations = anchor.inputs["metadata"]["annotations"]
    prefix = "alb.ingress.kubernetes.io/"
    assert json.loads(annotations[prefix + "listen-ports"]) == [{"HTTP": 80}, {"HTTPS": 443}]
    assert annotations[prefix + "ssl-redirect"] == "443"
    assert annotations[prefix + "certificate-arn"] == plan.outputs["ingress"]["certificateArn"]
    action = json.loads(annotations[prefix + "actions.not-found"])
    assert action["fixedResponseConfig"]["statusCode"] == "404"
    assert anchor.inputs["spec"]["ingressClassName"] == INGRESS_CLASS
    backend = anchor.inputs["spec"]["defaultBackend"]["service"]
    assert backend == {"name": "not-found", "port": {"name": "use-annotation"}}
    acl = plan.outputs["ingress"]["webAclArn"]
    if plan.stack == "prod":
        assert annotations[prefix + "wafv2-acl-arn"] == acl
    else:
        assert acl is None
        assert prefix + "wafv2-acl-arn" not in annotations


# --- certificate --------------------------------------------------------------------------------


def test_a_regional_wildcard_certificate_validated_in_the_zone_under_its_own_caa(
    plan: Plan,
) -> None:
    certificate = plan.named("ingress-certificate", "aws:acm/certificate:Certificate")
    assert certificate.inputs["domainName"] == f"*.{APPS[plan.stack]}"
    assert certificate.inputs["validationMethod"] == "DNS"
    assert region_of(plan, certificate) == "us-east-1"  # the stack's region, where the ALB is
    record = plan.named("ingress-certificate-validation-record", "aws:route53/record:Record")
    assert record.inputs["zoneId"] == plan.outputs["dns"]["zoneId"]
    caa = plan.named("ingress-apps-domain-caa", "aws:route53/record:Record")
    assert caa.inputs["name"] == APPS[plan.stack]
    assert caa.inputs["type"] == "CAA"
    assert '0 issuewild "amazon.com"' in caa.inputs["records"]
    assert not any("letsencrypt" in value for value in caa.inputs["records"])
    assert caa.urn in certificate.dependencies  # ACM checks CAA when it issues


def test_the_certificate_follows_another_region() -> None:
    config = stack_config("prod")
    assert IngressParts(config.ingress).certificate_domain == "*.app.genericcorp.com"


# --- access logs -------------------------------------------------------------------------------


def test_the_access_log_bucket_has_no_acls_sse_s3_and_admits_only_elb_delivery(plan: Plan) -> None:
    bucket = plan.named("ingress-access-logs", BUCKET)
    ownership = in_bucket(plan, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", bucket)
    assert ownership.inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    encryption = in_bucket(
        plan,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        bucket,
    )
    # ELB writes access logs only to SSE-S3 buckets; the tag names the exception.
    [rule] = encryption.inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    assert bucket.tags["SecurityExceptions"] == "S3.17"
    block = in_bucket(plan, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", bucket)
    assert all(block.inputs[flag] is True for flag in ("blockPublicAcls", "blockPublicPolicy"))
    found = statements(
        policy(in_bucket(plan, "aws:s3/bucketPolicy:BucketPolicy", bucket), "policy")
    )
    deny = [s for s in found if s["Effect"] == "Deny"]
    assert deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    allowed = [s for s in found if s["Effect"] == "Allow"]
    principals = [s["Principal"] for s in allowed]
    assert principals == [
        {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
        {"AWS": f"arn:aws:iam::{ELB_LOG_DELIVERY_ACCOUNTS['us-east-1']}:root"},
    ]
    prefix = f"{bucket.outputs['arn']}/alb/AWSLogs/123456789012/*"
    assert all(s["Action"] == "s3:PutObject" and s["Resource"] == prefix for s in allowed)
    lifecycle = in_bucket(
        plan, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", bucket
    )
    days = {"dev": 30, "prod": 365}[plan.stack]
    assert lifecycle.inputs["rules"][0]["expiration"] == {"days": days}
    assert bucket.protect is (plan.stack == "prod")


# --- the regional web ACL ----------------------------------------------------------------------


def test_prod_puts_a_regional_web_acl_with_logging_in_front_of_the_load_balancer(
    prod_plan: Plan,
) -> None:
    acl = prod_plan.named("ingress-waf", WEB_ACL)
    assert acl.inputs["scope"] == "REGIONAL"
    assert region_of(prod_plan, acl) == "us-east-1"
    rules = sorted(acl.inputs["rules"], key=lambda rule: rule["priority"])
    assert [r["name"] for r in rules] == list(IngressParts(stack_config("prod").ingress).waf_rules)
    assert [r["name"] for r in rules[:-1]] == list(MANAGED_RULE_GROUPS)
    assert rules[-1]["statement"]["rateBasedStatement"] == {"limit": 2000, "aggregateKeyType": "IP"}
    logging = prod_plan.named(
        "ingress-waf-logging", "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
    )
    group = prod_plan.named("ingress-waf-logs", "aws:cloudwatch/logGroup:LogGroup")
    assert logging.inputs["resourceArn"] == acl.outputs["arn"]
    assert logging.inputs["logDestinationConfigs"] == [group.outputs["arn"]]
    assert group.inputs["name"] == "aws-waf-logs-genericcorp-prod-ingress"
    assert group.inputs["retentionInDays"] == 365
    key = prod_plan.named("ingress-waf-logs-key", "aws:kms/key:Key")
    assert group.inputs["kmsKeyId"] == key.outputs["arn"]
    kept = logging.inputs["loggingFilter"]["filters"][0]["conditions"]
    assert [c["actionCondition"]["action"] for c in kept] == list(WAF_LOGGED_ACTIONS)
    assert logging.inputs["loggingFilter"]["defaultBehavior"] == "DROP"
    assert prod_plan.outputs["ingress"]["wafLogGroup"] == group.inputs["name"]


def test_dev_has_no_regional_web_acl(dev_plan: Plan) -> None:
    assert [r for r in dev_plan.of_type(WEB_ACL) if r.inputs["scope"] == "REGIONAL"] == []
    assert dev_plan.outputs["ingress"]["webAclArn"] is None


# --- external-dns ------------------------------------------------------------------------------


def test_external_dns_may_write_only_the_apps_domain_in_the_stack_zone(plan: Plan) -> None:
    role = plan.named("ingress-external-dns-irsa", "aws:iam/role:Role")
    trust = statements(policy(role, "assumeRolePolicy"))[0]
    assert "system:serviceaccount:kube-system:external-dns" in (
        trust["Condition"]["StringEquals"].values()
    )
    inline = plan.named("ingress-external-dns-irsa-policy", "aws:iam/rolePolicy:RolePolicy")
    found = {s["Sid"]: s for s in statements(policy(inline, "policy"))}
    zone = f"arn:aws:route53:::hostedzone/{plan.outputs['dns']['zoneId']}"
    change = found["ChangeTenantRecordsOnly"]
    assert change["Action"] == "route53:ChangeResourceRecordSets"
    assert change["Resource"] == zone
    names = change["Condition"]["ForAllValues:StringLike"]
    assert names == {
        "route53:ChangeResourceRecordSetsNormalizedRecordNames": [f"*.{APPS[plan.stack]}"]
    }
    types = change["Condition"]["ForAllValues:StringEquals"]
    assert types == {"route53:ChangeResourceRecordSetsRecordTypes": list(EXTERNAL_DNS_RECORD_TYPES)}
    assert found["ReadTheZone"]["Resource"] == zone
    # Nothing else: no other zone, no record outside the apps domain (apex, www, demo, CAA).
    assert set(found) == {"ChangeTenantRecordsOnly", "ReadTheZone", "FindTheZone"}


def test_external_dns_owns_its_records_through_txt_and_reads_ingresses_only(plan: Plan) -> None:
    [release] = [
        r
        for r in plan.of_type("kubernetes:helm.sh/v3:Release")
        if r.inputs["name"] == "external-dns"
    ]
    values = release.inputs["values"]
    assert values["registry"] == "txt"
    assert values["txtOwnerId"] == f"genericcorp-{plan.stack}-external-dns"
    assert values["domainFilters"] == [APPS[plan.stack]]
    assert values["sources"] == ["ingress"]
    assert values["policy"] == "sync"
    assert f"--zone-id-filter={plan.outputs['dns']['zoneId']}" in values["extraArgs"]
    role = plan.named("ingress-external-dns-irsa", "aws:iam/role:Role")
    assert values["serviceAccount"]["annotations"] == {
        "eks.amazonaws.com/role-arn": role.outputs["arn"]
    }
    assert values["resources"]["requests"] == {"cpu": "50m", "memory": "64Mi"}
    # Its chart creates a Service, which the controller's webhook must be up to admit.
    [controller] = [
        r
        for r in plan.of_type("kubernetes:helm.sh/v3:Release")
        if r.inputs["name"] == "aws-load-balancer-controller"
    ]
    assert controller.urn in release.dependencies


# --- tenants' hostnames and the network policy --------------------------------------------------


def test_each_tenant_has_its_hostname_and_admits_only_the_load_balancers_subnets(
    dev_plan: Plan,
) -> None:
    assert dev_plan.outputs["ingress"]["tenantHostnames"] == {
        "acme": "acme.app.dev.genericcorp.com",
        "globex": "globex.app.dev.genericcorp.com",
    }
    # The ALB's nodes live in the public subnets (those tagged for internet-facing ALBs).
    public = {
        r.inputs["cidrBlock"]
        for r in dev_plan.of_type("aws:ec2/subnet:Subnet")
        if "kubernetes.io/role/elb" in r.tags
    }
    assert len(public) == 2
    lb_policies = [
        r
        for r in dev_plan.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
        if r.inputs["metadata"]["name"] == "allow-load-balancer"
    ]
    assert len(lb_policies) == 2
    for resource in lb_policies:
        [rule] = resource.inputs["spec"]["ingress"]
        assert {peer["ipBlock"]["cidr"] for peer in rule["from"]} == public


# --- the admission policy, evaluated ------------------------------------------------------------


@cache
def _environment() -> Any:
    return celpy.Environment()


def admitted(ingress: dict[str, Any], tenant: str = "acme") -> list[str]:
    """The messages of the rules ``ingress`` breaks in ``tenant``'s namespace (dev's policy)."""
    env = _environment()
    activation: dict[str, Any] = {
        "object": json_to_cel(ingress),
        "namespaceObject": json_to_cel(
            {"metadata": {"labels": {"genericcorp.com/tenant": tenant}}}
        ),
    }
    variables = {
        celtypes.StringType(name): env.program(env.compile(expression)).evaluate(activation)
        for name, expression in admission_variables(APPS["dev"])
    }
    activation["variables"] = celtypes.MapType(variables)
    return [
        message
        for expression, message in admission_rules(GROUPS["dev"])
        if not bool(env.program(env.compile(expression)).evaluate(activation))
    ]


def tenant_ingress(**changes: Any) -> dict[str, Any]:
    host = f"acme.{APPS['dev']}"
    ingress: dict[str, Any] = {
        "metadata": {
            "name": "web",
            "annotations": {"alb.ingress.kubernetes.io/healthcheck-path": "/healthz"},
        },
        "spec": {
            "ingressClassName": INGRESS_CLASS,
            "rules": [{"host": host, "http": {"paths": [{"path": "/"}]}}],
            "tls": [{"hosts": [host]}],
        },
    }
    for key, value in changes.items():
        section = "metadata" if key == "annotations" else "spec"
        ingress[section][key] = value
    return ingress


def test_a_tenant_ingress_on_its_own_host_is_admitted() -> None:
    assert admitted(tenant_ingress()) == []


def test_another_tenants_host_is_refused() -> None:
    other = f"globex.{APPS['dev']}"
    assert admitted(tenant_ingress(rules=[{"host": other}])) == [
        "every rule names the tenant's own host (a rule without a host matches every host)"
    ]
    assert admitted(tenant_ingress(tls=[{"hosts": [other]}])) == [
        "TLS hosts are the tenant's own host"
    ]
    # The same Ingress is fine in globex's namespace.
    assert (
        admitted(tenant_ingress(rules=[{"host": other}], tls=[{"hosts": [other]}]), "globex") == []
    )


def test_a_rule_without_a_host_or_a_default_backend_is_refused() -> None:
    assert len(admitted(tenant_ingress(rules=[{"http": {"paths": [{"path": "/"}]}}]))) == 1
    assert admitted(tenant_ingress(defaultBackend={"service": {"name": "web"}})) == [
        "a default backend would take the traffic of every host in the shared group"
    ]


def test_another_group_or_class_is_refused() -> None:
    other_group = {"alb.ingress.kubernetes.io/group.name": "mine"}
    assert admitted(tenant_ingress(annotations=other_group)) == [
        f"tenant Ingresses stay in the load balancer group {GROUPS['dev']}"
    ]
    same_group = {"alb.ingress.kubernetes.io/group.name": GROUPS["dev"]}
    assert admitted(tenant_ingress(annotations=same_group)) == []
    assert len(admitted(tenant_ingress(ingressClassName="alb"))) == 1
    assert len(admitted(tenant_ingress(annotations={"kubernetes.io/ingress.class": "alb"}))) == 1


@pytest.mark.parametrize(
    "annotation",
    [
        "alb.ingress.kubernetes.io/scheme",
        "alb.ingress.kubernetes.io/certificate-arn",
        "alb.ingress.kubernetes.io/wafv2-acl-arn",
        "alb.ingress.kubernetes.io/listen-ports",
        "alb.ingress.kubernetes.io/conditions.web",
        "external-dns.alpha.kubernetes.io/hostname",
    ],
)
def test_group_wide_alb_and_dns_annotations_are_refused(annotation: str) -> None:
    assert len(admitted(tenant_ingress(annotations={annotation: "x"}))) == 1


def test_the_policy_binds_tenant_namespaces_and_denies(plan: Plan) -> None:
    vap = plan.one("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy")
    assert vap.inputs["spec"] == admission_policy_spec(APPS[plan.stack], GROUPS[plan.stack])
    assert vap.inputs["spec"]["failurePolicy"] == "Fail"
    binding = plan.one(
        "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding"
    )
    assert binding.inputs["spec"] == binding_spec()
    assert binding.inputs["spec"]["validationActions"] == ["Deny"]


# --- bad input ----------------------------------------------------------------------------------


def rejected(environment: str, overrides: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(environment, minimal_values(environment, overrides))
    return [problem.render() for problem in caught.value.problems]


def test_an_apps_domain_outside_the_zone_is_refused() -> None:
    [line] = rejected("dev", {INGRESS: {"appsDomain": "app.example.com"}})
    assert line.startswith(
        'genericcorp:ingress.appsDomain = "app.example.com": must be a subdomain'
    )
    assert "dev.genericcorp.com" in line
    [apex] = rejected("dev", {INGRESS: {"appsDomain": "dev.genericcorp.com"}})
    assert "must be a subdomain" in apex


@pytest.mark.parametrize("seconds", [0, 4001])
def test_an_idle_timeout_outside_the_alb_range_is_refused(seconds: int) -> None:
    [line] = rejected("dev", {INGRESS: {"idleTimeoutSeconds": seconds}})
    assert line.startswith(f"genericcorp:ingress.idleTimeoutSeconds = {seconds}: ")
    assert ("4000" in line) if seconds else ("1" in line)


@pytest.mark.parametrize(
    ("records", "cdn", "message"),
    [
        (
            [
                {
                    "name": "demo.app.genericcorp.com",
                    "type": "CNAME",
                    "ttl": 300,
                    "values": ["cname.vercel-dns.com"],
                }
            ],
            None,
            "already a CNAME record in genericcorp:dns.records",
        ),
        (None, "demo.app.genericcorp.com", "already the CDN's domain"),
    ],
)
def test_a_tenant_hostname_on_a_name_the_stack_manages_is_refused(
    records: list[dict[str, Any]] | None, cdn: str | None, message: str
) -> None:
    overrides: dict[str, Any] = {"genericcorp:tenants": [{"name": "demo", "tier": "starter"}]}
    if records is not None:
        prod_records = [
            r.model_dump(by_alias=True, mode="json") for r in stack_config("prod").dns.records
        ]
        overrides["genericcorp:dns"] = {"records": [*prod_records, *records]}
    if cdn is not None:
        overrides["genericcorp:cdn"] = {"domain": cdn}
    lines = rejected("prod", overrides)
    [tenant] = [line for line in lines if line.startswith("genericcorp:tenants[0].name")]
    assert tenant.startswith(
        'genericcorp:tenants[0].name = "demo": its hostname demo.app.genericcorp.com'
    )
    assert message in tenant


def test_a_tenant_named_like_the_apps_domain_records_is_fine_elsewhere() -> None:
    # www, demo and cdn are names in the zone, not under the apps domain: no collision.
    tenants = [{"name": name, "tier": "starter"} for name in ("www", "demo", "cdn")]
    config = parse_stack_config("prod", minimal_values("prod", {"genericcorp:tenants": tenants}))
    assert IngressParts(config.ingress, ("www",)).hostnames == {"www": "www.app.genericcorp.com"}
