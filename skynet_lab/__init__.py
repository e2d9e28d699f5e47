"""The simulated lab: fake talosctl/kubectl/helm on PATH, simulated nodes and a mock Kubernetes API."""
