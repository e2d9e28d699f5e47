"""The lab's simulated Kubernetes behind skynet_lab/kube.py and skynet_lab/argo.py: store, controllers, Argo CD, charts."""
