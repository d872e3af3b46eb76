"""ACM certificates proven by DNS in the stack's own zone."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.base import PlatformComponent


def validated_by_dns(
    owner: PlatformComponent,
    name: str,
    certificate: aws.acm.Certificate,
    *,
    zone_id: pulumi.Input[str],
    provider: aws.Provider | None = None,
) -> pulumi.Output[str]:
    """Write ``certificate``'s validation record in ``zone_id`` and wait until ACM issues it;
    the issued certificate's ARN. One name (or one wildcard) has one validation record.
    ``provider`` is the certificate's own (CloudFront's live in us-east-1); the record is in
    the zone, wherever the stack runs."""
    option = certificate.domain_validation_options.apply(lambda options: options[0])
    record = aws.route53.Record(
        f"{name}-certificate-validation-record",
        zone_id=zone_id,
        name=option.resource_record_name,
        type=option.resource_record_type,
        records=[option.resource_record_value],
        ttl=300,
        # The same CNAME validates a re-created certificate for the same name.
        allow_overwrite=True,
        opts=owner.child_opts(),
    )
    validation = aws.acm.CertificateValidation(
        f"{name}-certificate-validation",
        certificate_arn=certificate.arn,
        validation_record_fqdns=[record.fqdn],
        opts=owner.child_opts(provider=provider),
    )
    return validation.certificate_arn
