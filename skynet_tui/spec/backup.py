"""`spec.backup`: scheduled etcd backups in the cluster to S3-compatible storage, age-encrypted; optionally the
volumes too (Velero's file-system backup). The credentials are named by environment variables, never written."""

from __future__ import annotations

import re
from typing import Final

from pydantic import Field, field_validator

from skynet_tui.spec.fields import EnvName, Section, show

NAMESPACE: Final = "etcd-backup"  # where the backup CronJob runs: the one namespace given Talos API access
ROLE: Final = "os:etcd:backup"  # the one Talos API role it is granted

_CRON_FIELD = r"(\*|[0-9]{1,2}(-[0-9]{1,2})?(,[0-9]{1,2}(-[0-9]{1,2})?)*)(/[0-9]{1,2})?"
_CRON: Final = re.compile(rf"{_CRON_FIELD}( {_CRON_FIELD}){{4}}")
_BUCKET: Final = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_REGION: Final = re.compile(r"[a-z0-9][a-z0-9-]{0,30}")
_PREFIX: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,200}")
_ENDPOINT: Final = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?")
# An age X25519 recipient: "age1" and 58 characters of bech32.
_AGE: Final = re.compile(r"age1[02-9ac-hj-np-z]{58}")


class S3Target(Section):
    """An S3-compatible bucket the backups go to."""

    endpoint: str | None = Field(
        None,
        description="The S3-compatible endpoint URL (MinIO, Ceph RGW, Backblaze…); absent: AWS S3 in the "
        "region. http:// talks without TLS.",
        examples=["https://s3.example.com"],
    )
    bucket: str = Field(description="The bucket's name (3 to 63 lowercase letters, digits, dots, dashes).")
    region: str = Field("us-east-1", description="The bucket's region (any non-empty name for MinIO).")
    prefix: str | None = Field(
        None, description="The folder inside the bucket; default the cluster's name.", examples=["homelab"]
    )
    access_key_env: EnvName = Field(
        description="The variable holding the access key ID, read at install into a Secret, never written.",
        examples=["BACKUP_S3_ACCESS_KEY"],
    )
    secret_key_env: EnvName = Field(
        description="The variable holding the secret access key, read at install into a Secret, never written.",
        examples=["BACKUP_S3_SECRET_KEY"],
    )

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value is not None and not _ENDPOINT.fullmatch(value):
            raise ValueError(f"{show(value)} is not an http(s) URL of a host (no path, no user or password)")
        return value

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, value: str) -> str:
        if not _BUCKET.fullmatch(value):
            raise ValueError(f"{show(value)} is not a bucket name: 3 to 63 of a-z, 0-9, '.', '-'")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if not _REGION.fullmatch(value):
            raise ValueError(f"{show(value)} is not a region name such as us-east-1")
        return value

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str | None) -> str | None:
        if value is not None and (not _PREFIX.fullmatch(value) or ".." in value.split("/")):
            raise ValueError(f"{show(value)} is not a folder name inside a bucket")
        return value


class Backup(Section):
    """Scheduled backups in the cluster: etcd snapshots (and, with volumes, the PVCs) to one S3 bucket."""

    schedule: str = Field(
        "0 3 * * *",
        description="When the etcd backup runs, as a cron expression (minute hour day month weekday, UTC). "
        "Default 03:00 every day.",
        examples=["0 */6 * * *"],
    )
    s3: S3Target = Field(description="The S3-compatible bucket the backups go to.")
    age_recipient: str = Field(
        description="The age public key the etcd snapshots are encrypted to (age1…); its private key stays "
        "off the cluster and is what a restore decrypts with.",
        examples=["age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"],
    )
    volumes: bool = Field(
        False,
        description="Also back up the volumes (Velero with its file-system backup, a daily Schedule) to the "
        "same bucket.",
    )

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        if not _CRON.fullmatch(value):
            raise ValueError(f"{show(value)} is not a cron expression of five fields such as '0 3 * * *'")
        return value

    @field_validator("age_recipient")
    @classmethod
    def _age(cls, value: str) -> str:
        if not _AGE.fullmatch(value):
            raise ValueError(f"{show(value)} is not an age public key (age1 and 58 more characters)")
        return value
