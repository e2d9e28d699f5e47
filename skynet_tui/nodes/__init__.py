"""Node lifecycle without a UI: whether a node may leave (etcd quorum), draining it, and the answers' edits."""
