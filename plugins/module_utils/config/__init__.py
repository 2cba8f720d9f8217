# Copyright: MLOps platform team
# Apache License 2.0 (see LICENSE)
"""Cross-field validation of the one platform config, and what each tool is given from it."""
