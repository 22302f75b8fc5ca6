"""The resource corpus of tests/fixtures/resources: resource attributes as SDKs and detectors emit them.

Cases made by a Python detector (`python_detector`) are rebuilt here with the real detector, its cloud metadata
service or environment faked with the inputs the case records; every other case is the attribute set the reference
documents for a non-Python SDK or a Collector detector, wrapped in an SDK `Resource` as it is.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.resource.detector.azure import aks as azure_aks
from opentelemetry.resource.detector.azure import vm as azure_vm
from opentelemetry.resourcedetector.gcp_resource_detector import GoogleCloudResourceDetector
from opentelemetry.resourcedetector.gcp_resource_detector import _metadata as gcp_metadata
from opentelemetry.sdk.extension.aws.resource import _lambda as aws_lambda
from opentelemetry.sdk.extension.aws.resource import ec2 as aws_ec2
from opentelemetry.sdk.resources import Resource, ResourceDetector, get_aggregated_resources

from store.settings import TierRules

CORPUS = Path(__file__).parent / "fixtures" / "resources" / "corpus.json"
# attributes whose value follows the installed SDK or the process (a random UUID), not the case's environment
VERSIONED = frozenset({"telemetry.sdk.version", "service.instance.id"})


@dataclass(frozen=True)
class Case:
    """One resource: what emitted it, its attributes, the rules in force and the tier it must get."""

    id: str
    category: str  # device | cloud | edge | other
    emitter: str
    resource: Mapping[str, Any]
    tier: str
    tier_source: str
    site: str | None
    rules: TierRules
    python_detector: Mapping[str, Any] | None

    @property
    def configured(self) -> bool:
        return self.rules != TierRules()


def _rules(raw: Mapping[str, Any] | None) -> TierRules:
    raw = raw or {}
    return TierRules(edge_hosts=frozenset(raw.get("edge_hosts", ())),
                     region_tiers=tuple(sorted(raw.get("regions", {}).items())))


def load() -> list[Case]:
    """Every case of the corpus, in file order."""
    cases = []
    for raw in json.loads(CORPUS.read_text("utf-8"))["cases"]:
        want = raw["expected"]
        cases.append(Case(raw["id"], raw["category"], raw["emitter"], raw["resource"], want["tier"],
                          want["tier_source"], want.get("site"), _rules(raw.get("rules")), raw.get("python_detector")))
    return cases


def _imds(inputs: Mapping[str, Any]) -> Any:
    """EC2's instance metadata service as the AWS detector asks it: token, identity document, hostname."""
    answers = {"/latest/api/token": "token", "/latest/dynamic/instance-identity/document": json.dumps(inputs["identity"]),
               "/latest/meta-data/hostname": inputs["hostname"]}
    return lambda method, path, headers, timeout=None: answers[path]


@contextmanager
def _faked(mp: pytest.MonkeyPatch, spec: Mapping[str, Any]) -> Iterator[ResourceDetector]:
    """The detector `spec` names, with its metadata service or environment faked from the spec's inputs."""
    for key, value in spec.get("env", {}).items():
        mp.setenv(key, value)
    kind = spec["detector"]
    detector: ResourceDetector
    if kind == "aws_ec2":
        mp.setattr(aws_ec2, "_aws_http_request", _imds(spec["imds"]))
        detector = aws_ec2.AwsEc2ResourceDetector()
    elif kind == "aws_lambda":
        detector = aws_lambda.AwsLambdaResourceDetector()
    elif kind == "gcp":
        mp.setattr(gcp_metadata, "is_available", lambda: True)
        mp.setattr(gcp_metadata, "get_metadata", lambda: spec["metadata"])
        detector = GoogleCloudResourceDetector()
    elif kind == "azure_vm":
        mp.setattr(azure_vm, "_get_azure_vm_metadata", lambda: spec["metadata"])
        detector = azure_vm.AzureVMResourceDetector()
    elif kind == "azure_aks":
        detector = azure_aks.AzureAKSResourceDetector()
    else:
        raise ValueError(f"unknown detector {kind!r}")
    detector.raise_on_error = True
    yield detector


def build(case: Case) -> Resource:
    """The case's resource as the SDK makes it: a Python detector's run on top of `Resource.create()` (which reads
    OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES), or the recorded attributes of another SDK or detector."""
    if case.python_detector is None:
        return Resource(dict(case.resource))
    with pytest.MonkeyPatch.context() as mp, _faked(mp, case.python_detector) as detector:
        return get_aggregated_resources([detector], initial_resource=Resource.create())
