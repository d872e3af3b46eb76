"""Facts about resource types read from the installed provider SDK."""

from __future__ import annotations

import importlib
from functools import cache

from infractl.offline import sdk


@cache
def aws_resource_class(type_token: str) -> type | None:
    """The pulumi-aws class for a token such as ``aws:ec2/vpc:Vpc`` (None if not an AWS type)."""
    package, module_path, class_name = type_token.split(":")
    if package != "aws":
        return None
    module = module_path.split("/")[0]
    target = "pulumi_aws" if module == "index" else f"pulumi_aws.{module}"
    try:
        return getattr(importlib.import_module(target), class_name, None)
    except ImportError:
        return None


@cache
def kubernetes_resource_class(type_token: str) -> type | None:
    """The pulumi-kubernetes class for a token such as
    ``kubernetes:networking.k8s.io/v1:NetworkPolicy`` (None if not a Kubernetes type)."""
    package, module_path, class_name = type_token.split(":")
    if package != "kubernetes" or "/" not in module_path:
        return None
    group, version = module_path.split("/", 1)
    target = f"pulumi_kubernetes.{group.split('.')[0]}.{version}"
    try:
        return getattr(importlib.import_module(target), class_name, None)
    except ImportError:
        return None


def resource_class(type_token: str) -> type | None:
    """The SDK class of an AWS or Kubernetes resource type token."""
    return aws_resource_class(type_token) or kubernetes_resource_class(type_token)


@cache
def is_taggable(type_token: str) -> bool:
    """Whether the AWS resource type takes ``tags`` (and so receives provider default tags)."""
    cls = aws_resource_class(type_token)
    return cls is not None and "tags" in sdk.resource_input_names(cls)
