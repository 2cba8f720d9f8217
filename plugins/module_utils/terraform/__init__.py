# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Terraform (or OpenTofu) driven through python-terraform, behind one small API."""
