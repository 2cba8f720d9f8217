"""`mlopsctl doctor`: drift and health across Terraform, nodes, cluster, ArgoCD, MLflow, TLS, backups."""

from .checks import ATTENTION, OK, SKIPPED, Finding, Report, run_doctor

__all__ = ["ATTENTION", "OK", "SKIPPED", "Finding", "Report", "run_doctor"]
