"""The GitOps repository: render the Argo CD app-of-apps tree, check it, write it, push it."""

from __future__ import annotations

from skynet_tui.gitops.bootstrap import bootstrap_secrets, grafana_admin_password, secret_values
from skynet_tui.gitops.checks import check_tree
from skynet_tui.gitops.errors import GitOpsError
from skynet_tui.gitops.git import checked_tree, push, push_commands, write_tree
from skynet_tui.gitops.render import applications, argocd_install, ingress_ip, render_tree

__all__ = [
    "GitOpsError",
    "applications",
    "argocd_install",
    "bootstrap_secrets",
    "check_tree",
    "checked_tree",
    "grafana_admin_password",
    "ingress_ip",
    "push",
    "push_commands",
    "render_tree",
    "secret_values",
    "write_tree",
]
