"""The lab's one argv parser as the fake kubectl and helm use it: global flags, value types, refusals."""

from __future__ import annotations

import pytest

from skynet_lab import cli
from skynet_lab.cli import CliError, HelpRequested
from skynet_lab.fake_helm import HELM
from skynet_lab.fake_kubectl import KUBECTL


def test_kubectl_global_flags_before_and_after_the_command() -> None:
    inv = cli.parse(KUBECTL, ["--kubeconfig", "/k", "-nargocd", "get", "pods", "-oyaml", "-A", "--v=6"])
    assert inv.command == ("get",) and inv.args == ["pods"]
    assert inv.flags == {
        "kubeconfig": "/k",
        "namespace": "argocd",
        "output": "yaml",
        "all-namespaces": True,
        "v": 6,
    }
    apply = cli.parse(KUBECTL, ["apply", "--server-side", "-f", "a.yaml", "--filename=b.yaml", "-f", "-"])
    assert apply.get("filename") == ["a.yaml", "b.yaml", "-"] and apply.get("server-side") is True


@pytest.mark.parametrize(
    ("argv", "message", "command"),
    [
        (["get", "pods", "--selector", "a=b"], "unknown flag: --selector", ("get",)),
        (["get", "pods", "-x"], "unknown shorthand flag: 'x' in -x", ("get",)),
        (["get", "pods", "-o"], "flag needs an argument: 'o' in -o", ("get",)),
        (
            ["apply", "-f", "x", "--server-side=maybe"],
            'invalid argument "maybe" for "--server-side" flag',
            ("apply",),
        ),
        (["frobnicate"], 'unknown command "frobnicate" for "kubectl"', ()),
    ],
)
def test_kubectl_refusals_in_pflag_words(argv: list[str], message: str, command: tuple[str, ...]) -> None:
    with pytest.raises(CliError) as caught:
        cli.parse(KUBECTL, argv)
    assert caught.value.message.startswith(message) and caught.value.command == command


def test_a_real_command_the_lab_does_not_simulate_is_recognised_unparsed() -> None:
    inv = cli.parse(KUBECTL, ["logs", "-f", "pod/x", "--since=1h"])
    assert inv.command == ("logs",) and inv.flags == {} and inv.args == ["-f", "pod/x", "--since=1h"]
    assert not KUBECTL.simulated(inv.command)


def test_helm_values_split_on_commas_and_help() -> None:
    inv = cli.parse(
        HELM, ["template", "argocd", "argo-cd", "-n", "argocd", "-f", "a.yaml,b.yaml", "--include-crds"]
    )
    assert inv.args == ["argocd", "argo-cd"] and inv.get("values") == ["a.yaml", "b.yaml"]
    assert inv.get("namespace") == "argocd" and inv.get("include-crds") is True
    with pytest.raises(HelpRequested):
        cli.parse(HELM, ["template", "--help"])
    with pytest.raises(HelpRequested):
        cli.parse(HELM, [])
    assert "  -f, --values strings" in cli.usage(HELM, ("template",)).splitlines()
