"""The platform's reference ML application: a digits classifier.

Training (`train`) fits it on scikit-learn's digits (8x8 images of handwritten digits,
or the same arrays from the data volume), logs to MLflow and registers a version that
passes the evaluation gate; the service (`service`, `serve`) answers predictions with
that exact version and exports the metrics the platform's alerts and canary analysis
read. Replace it with your own application by keeping the contract in README.md.
"""

NAME = "digits"
