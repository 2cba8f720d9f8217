"""mlops_platform: the Python API and CLI over the mlops.platform collection."""

__version__ = "0.1.0"
