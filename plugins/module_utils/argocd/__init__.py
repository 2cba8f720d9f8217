# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""ArgoCD's declarative objects (Application, AppProject, repository Secrets) from module options."""
