"""Per-operator Talos access: role-based client certificates issued from the workspace's secrets bundle."""
