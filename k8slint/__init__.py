"""k8slint: a static linter for Kubernetes manifests."""

__version__ = "0.1.0"
