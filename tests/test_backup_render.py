"""spec.backup: its answers checked, the etcd backup CronJob and Velero rendered and valid, their S3 keys only in
Secrets the installer makes from the environment."""

from __future__ import annotations

import copy

import pytest
import yaml

from skynet_tui import gitops, spec
from skynet_tui.gitops.render import render_tree
from skynet_tui.plan import probes
from tests.gitops_helpers import BACKUP, BACKUP_ENV, cluster_backup, k8s_minor, validate_document


def test_the_etcd_backup_cronjob_reads_its_keys_from_a_secret(example_data: dict) -> None:
    files = render_tree(cluster_backup(example_data, volumes=False))
    assert "apps/velero.yaml" not in files
    docs = list(yaml.safe_load_all(files["config/etcd-backup/talos-backup.yaml"]))
    account, cronjob = docs
    assert (account["kind"], account["spec"]) == ("ServiceAccount", {"roles": ["os:etcd:backup"]})
    assert cronjob["spec"]["schedule"] == "0 */6 * * *"
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in pod["containers"][0]["env"]}
    assert env["AWS_SECRET_ACCESS_KEY"] == {
        "secretKeyRef": {"name": "etcd-backup-s3", "key": "AWS_SECRET_ACCESS_KEY"}
    }
    assert (
        env["BUCKET"] == "skynet-backups" and env["S3_PREFIX"] == "homelab"
    )  # the prefix defaults to the name
    assert env["CUSTOM_S3_ENDPOINT"] == "https://s3.example.com"
    assert env["AGE_X25519_PUBLIC_KEY"] == BACKUP["ageRecipient"]
    assert {"name": "talos-secrets", "secret": {"secretName": "talos-backup-secrets"}} in pod["volumes"]
    assert not any(value in text for value in BACKUP_ENV.values() for text in files.values())


def test_volumes_add_velero_in_a_privileged_namespace_with_a_daily_schedule(example_data: dict) -> None:
    files = render_tree(cluster_backup(example_data))
    app = yaml.safe_load(files["apps/velero.yaml"])
    labels = app["spec"]["syncPolicy"]["managedNamespaceMetadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"  # the node-agent mounts hostPath
    values = yaml.safe_load(files["values/velero.yaml"])
    assert values["deployNodeAgent"] is True and values["configuration"]["uploaderType"] == "kopia"
    assert values["credentials"] == {"useSecret": True, "existingSecret": "velero-s3"}
    location = values["configuration"]["backupStorageLocation"][0]
    assert location["prefix"] == "homelab/volumes" and location["config"]["s3ForcePathStyle"] == "true"
    assert values["schedules"]["daily"]["schedule"] == "0 4 * * *"


def test_the_installer_makes_the_backup_secrets_from_the_environment(example_data: dict) -> None:
    cluster = cluster_backup(example_data)
    manifests = gitops.bootstrap_secrets(cluster, BACKUP_ENV, grafana_password="p" * 24)
    secrets = {
        (d["metadata"]["namespace"], d["metadata"]["name"]): d for d in manifests if d["kind"] == "Secret"
    }
    etcd = secrets[("etcd-backup", "etcd-backup-s3")]["stringData"]
    assert etcd == {"AWS_ACCESS_KEY_ID": BACKUP_ENV["BACKUP_S3_ACCESS_KEY"],
                    "AWS_SECRET_ACCESS_KEY": BACKUP_ENV["BACKUP_S3_SECRET_KEY"]}  # fmt: skip
    cloud = secrets[("velero", "velero-s3")]["stringData"]["cloud"]
    assert cloud.startswith("[default]\naws_access_key_id=AKIA")
    namespaces = {d["metadata"]["name"]: d for d in manifests if d["kind"] == "Namespace"}
    assert namespaces["velero"]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    for index, doc in enumerate(manifests, start=1):
        assert validate_document("bootstrap-secrets", index, doc, k8s_minor(cluster)) == []
    assert set(BACKUP_ENV.values()) <= set(gitops.secret_values(manifests))  # the redactor learns them
    with pytest.raises(
        gitops.GitOpsError, match="BACKUP_S3_SECRET_KEY .spec.backup.s3.secretKeyEnv. is not set"
    ):
        gitops.bootstrap_secrets(cluster, {"BACKUP_S3_ACCESS_KEY": "x" * 20}, grafana_password="p" * 24)
    missing = probes.missing_secrets(cluster, {})
    assert any("BACKUP_S3_ACCESS_KEY (backup.s3.accessKeyEnv)" in m for m in missing)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("schedule",), "every day", "is not a cron expression"),
        (("ageRecipient",), "age1short", "is not an age public key"),
        (("s3", "bucket"), "Bad_Bucket", "is not a bucket name"),
        (("s3", "endpoint"), "https://user:pw@s3.example.com", "is not an http(s) URL"),
        (("s3", "secretKeyEnv"), "lower-case", ""),
        (("s3", "prefix"), "a/../b", "is not a folder name"),
    ],
)
def test_backup_answers_are_checked(
    example_data: dict, path: tuple[str, ...], value: str, message: str
) -> None:
    data = copy.deepcopy(example_data)
    data["spec"]["backup"] = copy.deepcopy(BACKUP)
    node = data["spec"]["backup"]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(spec.SpecError) as error:
        spec.parse(data)
    issue = error.value.issues[0]
    assert issue.path == "spec.backup." + ".".join(path)
    assert message in issue.message


def test_the_backup_keys_never_reach_a_log_or_the_journal(example_data: dict, tmp_path) -> None:
    import os

    from skynet_tui.plan.install import install_plan
    from skynet_tui.plan.steps import Step
    from skynet_tui.workspace import Workspace
    from tests.runner_helpers import py, run_plan

    ws = Workspace.at(tmp_path / "ws")
    ws.ensure()
    plan = install_plan(cluster_backup(example_data), ws, env={}, simulated=True)
    assert {"BACKUP_S3_ACCESS_KEY", "BACKUP_S3_SECRET_KEY"} <= set(plan.secret_env)
    # A step that prints both keys (as a failing kubectl might echo a Secret): the runner redacts them.
    code = "import os\nprint(os.environ['BACKUP_S3_ACCESS_KEY'], os.environ['BACKUP_S3_SECRET_KEY'])\nraise SystemExit(1)"
    ok, rec = run_plan(ws, [Step("leak", "leak", py(code))], env={**os.environ, **BACKUP_ENV},
                       plan_kwargs={"secret_env": plan.secret_env})  # fmt: skip
    assert not ok and len(rec.lines("leak")) == 1
    written = "\n".join(p.read_text() for p in ws.logs_dir.glob("*.log")) + ws.journal.read_text()
    for value in BACKUP_ENV.values():
        assert value not in rec.lines("leak")[0] and value not in written
