# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Where each kind lives in the API: a table for the kinds we manage, discovery otherwise."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Resource:
    api_version: str
    kind: str
    plural: str
    namespaced: bool

    @property
    def base(self) -> str:
        if "/" in self.api_version:
            return f"/apis/{self.api_version}"
        return f"/api/{self.api_version}"

    def path(self, name: str | None = None, namespace: str | None = None) -> str:
        parts = [self.base]
        if self.namespaced:
            if not namespace:
                raise ValueError(f"{self.kind} is namespaced: a namespace is required")
            parts.append(f"namespaces/{namespace}")
        parts.append(self.plural)
        if name:
            parts.append(name)
        return "/".join(parts)


# Kinds the platform manages: no discovery round trip is needed for them.
_KNOWN = [
    ("v1", "Namespace", "namespaces", False),
    ("v1", "Secret", "secrets", True),
    ("v1", "ConfigMap", "configmaps", True),
    ("v1", "ServiceAccount", "serviceaccounts", True),
    ("v1", "Service", "services", True),
    ("v1", "PersistentVolumeClaim", "persistentvolumeclaims", True),
    ("apps/v1", "Deployment", "deployments", True),
    ("apps/v1", "StatefulSet", "statefulsets", True),
    ("batch/v1", "Job", "jobs", True),
    ("batch/v1", "CronJob", "cronjobs", True),
    ("rbac.authorization.k8s.io/v1", "Role", "roles", True),
    ("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", True),
    ("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", False),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", False),
    ("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", True),
    ("networking.k8s.io/v1", "Ingress", "ingresses", True),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions", False),
    ("argoproj.io/v1alpha1", "Application", "applications", True),
    ("argoproj.io/v1alpha1", "AppProject", "appprojects", True),
    ("argoproj.io/v1alpha1", "ApplicationSet", "applicationsets", True),
    ("argoproj.io/v1alpha1", "Workflow", "workflows", True),
    ("argoproj.io/v1alpha1", "WorkflowTemplate", "workflowtemplates", True),
    ("argoproj.io/v1alpha1", "CronWorkflow", "cronworkflows", True),
    ("argoproj.io/v1alpha1", "ClusterWorkflowTemplate", "clusterworkflowtemplates", False),
]

KNOWN: dict[tuple[str, str], Resource] = {
    (api_version, kind): Resource(api_version, kind, plural, namespaced)
    for api_version, kind, plural, namespaced in _KNOWN
}
