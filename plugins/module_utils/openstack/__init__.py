# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""OpenStack checks through openstacksdk: clouds.yaml lookup and the preflight report."""
