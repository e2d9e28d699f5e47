"""The lab's simulated Kubernetes behind lab/kube.py and lab/argo.py: store, controllers, Argo CD, charts."""
