"""The workspace's secrets shared through its git repository: secrets/ encrypted with age into secrets.age/."""

from skynet_tui.sharing.age import DEFAULT_IDENTITY, EncryptionError, NoMatchingIdentity, load_identities
from skynet_tui.sharing.share import added, pushes, removed, share, with_recipients
from skynet_tui.sharing.store import (
    MANIFEST,
    SEALED,
    Manifest,
    NotOpened,
    check_opened,
    read_manifest,
    seal,
    unseal,
)
from skynet_tui.sharing.takeover import clone, default_folder, is_local_clone, open_secrets

__all__ = [
    "DEFAULT_IDENTITY", "MANIFEST", "SEALED", "EncryptionError", "Manifest", "NoMatchingIdentity", "NotOpened",
    "added", "check_opened", "clone", "default_folder", "is_local_clone", "open_secrets", "load_identities", "pushes", "read_manifest", "removed", "seal", "share", "unseal",
    "with_recipients",
]  # fmt: skip
