# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""MLflow model registry over its REST API (no mlflow package needed on the controller).

from ...mlflow.client import MlflowClient, MlflowError
client = MlflowClient("http://mlflow.platform:5000", token=None, timeout=10)
client.get_model_version("bird-classifier", "3")     # dict, MlflowError when absent
client.get_alias("bird-classifier", "canary")          # version str or None
client.set_alias("bird-classifier", "canary", "3")
"""
