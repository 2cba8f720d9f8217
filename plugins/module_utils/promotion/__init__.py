# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Promotion of the model service through the environments (staging -> canary -> production).

- order:       input rules (environment order, version / image tag formats) -> PromotionError
- history:     the bounded promotion history kept in a ConfigMap (pure)
- application: what an ArgoCD Application runs / reports, the patch that promotes (pure)
- service:     Promoter(kube_client, Settings, mlflow=...).promote / rollback / history
- runner:      run_module(module) for plugins/modules/environment_promote.py
"""
