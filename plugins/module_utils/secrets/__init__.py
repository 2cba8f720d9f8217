# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Secrets whose values the platform generates and keeps in-cluster."""
