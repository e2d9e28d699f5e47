"""The answers-file model: every rule, its path, warnings, round-trip, examples in the docs."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from skynet_tui import spec, versions

from .conftest import DATA, EXAMPLE, REPO


def _yaml_blocks(markdown: Path) -> list[str]:
    text = markdown.read_text()
    return [b for b in re.findall(r"```yaml\n(.*?)```", text, flags=re.S) if "kind: Cluster" in b]


def test_example_loads_and_round_trips_byte_stable() -> None:
    cluster = spec.load(EXAMPLE)
    text = spec.dump(cluster)
    again = spec.loads(text)
    assert again == cluster
    assert spec.dump(again) == text


@pytest.mark.parametrize("doc", [DATA / "design" / "cluster.yaml", REPO / "README.md"], ids=lambda p: p.name)
def test_every_example_in_the_docs_loads(doc: Path) -> None:
    # The design document's contract lives outside the repository: tests/data/design holds a copy of its block.
    blocks = _yaml_blocks(doc) if doc.suffix == ".md" else [doc.read_text()]
    assert blocks and all("kind: Cluster" in block for block in blocks), f"{doc.name} shows no answers file"
    for block in blocks:
        cluster = spec.loads(block)
        assert spec.loads(spec.dump(cluster)) == cluster


def test_the_readme_table_lists_every_optional_platform_field_with_its_default() -> None:
    rows = {}
    for line in (REPO / "README.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip("|").split(" | ")]
        if line.startswith("| `spec.") and len(cells) == 3:
            for name in re.findall(r"`(?:spec\.components)?\.?([A-Za-z0-9.]+)`", cells[0]):
                rows[name] = cells
    defaults = spec.Components()
    for name, info in spec.Components.model_fields.items():
        key = info.alias or name
        assert rows[key][1] == ("on" if getattr(defaults, name) else "off"), key
    assert "spec.registries.mirrors" in rows and spec.Registries().mirrors == {}
    providers = re.findall(r"provider: ([a-z0-9\\|]+),", rows["spec.ingress.acme.dns01"][2])
    assert providers and providers[0].split("\\|") == list(spec.DNS01_PROVIDERS)


def test_defaults_are_applied_when_keys_are_absent(example_data: dict) -> None:
    del example_data["spec"]["talos"]
    del example_data["spec"]["kubernetes"]
    example_data["spec"]["network"].pop("nameservers")
    cluster = spec.parse(example_data)
    assert cluster.spec.talos.version == "v1.13.9"
    assert cluster.spec.kubernetes.pod_subnet == "10.244.0.0/16"
    assert cluster.spec.network.nameservers == ["1.1.1.1", "9.9.9.9"]
    assert cluster.spec.components.image_security is False
    assert cluster.spec.control_plane.vip is True


def _set(data: dict, path: str, value: object) -> None:
    keys = re.findall(r"[^.\[\]]+", path)
    target = data
    for key in keys[:-1]:
        target = target[int(key)] if key.isdigit() else target.setdefault(key, {})
    last = keys[-1]
    if value is _DELETE:
        del target[last]
    elif last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value


_DELETE = object()

# (mutations, expected path, a word the message must contain)
INVALID = [
    ({"metadata.name": "Home_Lab"}, "metadata.name", "DNS-1123"),
    ({"metadata.name": "a" * 41}, "metadata.name", "40"),
    ({"spec.talos.version": "v1.12.6"}, "spec.talos.version", "not supported"),
    ({"spec.talos.version": "1.13.9"}, "spec.talos.version", "not a Talos version"),
    (
        {"spec.talos.version": "v1.14.0"},
        "spec.talos.version",
        "not released yet; its release candidate is v1.14",
    ),
    (
        {"spec.talos.version": "v1.13.10-rc.1"},
        "spec.talos.version",
        "pre-release of a minor that has releases",
    ),
    ({"spec.nodes[0].interface": None}, "spec.nodes[0].mac", "name the node's network link"),
    (
        {"spec.nodes[0].certFingerprint": "abc"},
        "spec.nodes[0].certFingerprint",
        "not a certificate fingerprint",
    ),
    ({"spec.nodes[1].maintenanceAddress": "192.168.10.11"}, "spec.nodes[1].maintenanceAddress", "also where"),
    ({"spec.talos.schematic": "xyz"}, "spec.talos.schematic", "64"),
    ({"spec.kubernetes.version": "1.30.4"}, "spec.kubernetes.version", "support range"),
    ({"spec.kubernetes.version": "1.37.0"}, "spec.kubernetes.version", "support range"),
    ({"spec.kubernetes.version": "latest"}, "spec.kubernetes.version", "not a Kubernetes version"),
    ({"spec.kubernetes.podSubnet": "10.244.0.1/16"}, "spec.kubernetes.podSubnet", "host bits"),
    ({"spec.kubernetes.serviceSubnet": "10.244.0.0/20"}, "spec.kubernetes.serviceSubnet", "overlaps"),
    ({"spec.kubernetes.podSubnet": "192.168.0.0/16"}, "spec.kubernetes.podSubnet", "overlaps network.subnet"),
    ({"spec.kubernetes.cni": "cilium"}, "spec.kubernetes.cni", "not allowed"),
    ({"spec.network.subnet": "192.168.10.0/33"}, "spec.network.subnet", "CIDR"),
    ({"spec.network.subnet": "192.168.10.0"}, "spec.network.subnet", "prefix length"),
    ({"spec.network.gateway": "192.168.11.1"}, "spec.network.gateway", "outside network.subnet"),
    ({"spec.network.gateway": "192.168.10.11"}, "spec.network.gateway", "spec.nodes[0]"),
    ({"spec.network.gateway": "gateway"}, "spec.network.gateway", "IPv4"),
    ({"spec.network.nameservers": ["1.1.1.1", "dns.google"]}, "spec.network.nameservers[1]", "IPv4"),
    ({"spec.network.ntp": ["not a host!"]}, "spec.network.ntp[0]", "DNS name"),
    ({"spec.controlPlane.endpoint": "192.168.20.10"}, "spec.controlPlane.endpoint", "outside"),
    ({"spec.controlPlane.endpoint": "api.example.com"}, "spec.controlPlane.vip", "DNS name"),
    ({"spec.controlPlane.endpoint": "192.168.10.12"}, "spec.controlPlane.endpoint", "spec.nodes[1]"),
    ({"spec.controlPlane.endpoint": "192.168.10.1"}, "spec.controlPlane.endpoint", "gateway"),
    ({"spec.controlPlane.endpoint": "192.168.10.205"}, "spec.loadBalancer.addresses[0]", "VIP"),
    ({"spec.nodes[2].ip": "192.168.11.5"}, "spec.nodes[2].ip", "outside network.subnet 192.168.10.0/24"),
    ({"spec.nodes[1].ip": "192.168.10.11"}, "spec.nodes[1].ip", "already used"),
    ({"spec.nodes[1].hostname": "cp-1"}, "spec.nodes[1].hostname", "already used"),
    ({"spec.nodes[0].hostname": "CP_1"}, "spec.nodes[0].hostname", "DNS-1123"),
    ({"spec.nodes[0].ip": "192.168.10.0"}, "spec.nodes[0].ip", "network or broadcast"),
    ({"spec.nodes[0].ip": "300.1.1.1"}, "spec.nodes[0].ip", "IPv4"),
    ({"spec.nodes[0].role": "master"}, "spec.nodes[0].role", "not allowed"),
    ({"spec.nodes[0].installDisk": "sda"}, "spec.nodes[0].installDisk", "device path"),
    ({"spec.nodes[0].installDisk": {"serial": "a", "wwid": "b"}}, "spec.nodes[0].installDisk", "exactly one"),
    ({"spec.nodes[3].mac": "aa:bb:cc:dd:ee"}, "spec.nodes[3].mac", "MAC"),
    ({"spec.nodes[0].mac": "aa:bb:cc:dd:ee:ff"}, "spec.nodes[0].mac", "not both"),
    ({"spec.nodes[0].interface": "eth 0"}, "spec.nodes[0].interface", "link name"),
    ({"spec.nodes[0].ipaddress": "1.2.3.4"}, "spec.nodes[0].ipaddress", "did you mean 'ip'"),
    ({"spec.nodes": []}, "spec.nodes", "at least 1"),
    (
        {"spec.loadBalancer.addresses": ["192.168.10.220-192.168.10.200"]},
        "spec.loadBalancer.addresses[0]",
        "reversed",
    ),
    (
        {"spec.loadBalancer.addresses": ["192.168.10.200-192.168.10.220", "192.168.10.210/31"]},
        "spec.loadBalancer.addresses[1]",
        "overlaps",
    ),
    (
        {"spec.loadBalancer.addresses": ["192.168.10.5-192.168.10.15"]},
        "spec.loadBalancer.addresses[0]",
        "spec.nodes[0]",
    ),
    ({"spec.loadBalancer.addresses": ["10.0.0.1-10.0.0.9"]}, "spec.loadBalancer.addresses[0]", "outside"),
    (
        {"spec.loadBalancer.addresses": ["192.168.10.1-192.168.10.3"]},
        "spec.loadBalancer.addresses[0]",
        "gateway",
    ),
    ({"spec.loadBalancer.addresses": ["pool"]}, "spec.loadBalancer.addresses[0]", "range"),
    ({"spec.ingress.domain": "localhost"}, "spec.ingress.domain", "domain"),
    ({"spec.ingress.acme.email": "ops.example.com"}, "spec.ingress.acme.email", "e-mail"),
    ({"spec.ingress.acme.server": "prod"}, "spec.ingress.acme.server", "not allowed"),
    ({"spec.ingress.acme.challenge": "dns01"}, "spec.ingress.acme.dns01.provider", "DNS provider"),
    (
        {"spec.ingress.acme.challenge": "dns01", "spec.ingress.acme.dns01": {"provider": "cloudflare"}},
        "spec.ingress.acme.dns01.tokenEnv",
        "environment variable",
    ),
    (
        {"spec.ingress.acme.dns01": {"provider": "cloudflare", "tokenEnv": "CF-TOKEN"}},
        "spec.ingress.acme.dns01.tokenEnv",
        "environment variable",
    ),
    (
        {
            "spec.ingress.acme.challenge": "dns01",
            "spec.ingress.acme.dns01": {"provider": "rfc2136", "tokenEnv": "T"},
        },
        "spec.ingress.acme.dns01.provider",
        "not allowed",
    ),
    ({"spec.gitops.repoURL": "github.com/example/homelab"}, "spec.gitops.repoURL", "Git URL"),
    ({"spec.gitops.branch": "-main"}, "spec.gitops.branch", "branch"),
    ({"spec.gitops.path": "../gitops"}, "spec.gitops.path", "relative"),
    ({"spec.gitops.path": "."}, "spec.gitops.path", "dot"),
    ({"spec.gitops.path": "./secrets"}, "spec.gitops.path", "dot"),
    ({"spec.gitops.path": "repo/.git"}, "spec.gitops.path", "dot"),
    (
        {"spec.gitops.repoURL": "https://oauth2:glpat-Secret42@gitlab.example.com/x/y.git"},
        "spec.gitops.repoURL",
        "tokenEnv",
    ),
    (
        {"spec.gitops.credentials": {"sshKeyFile": "~/.ssh/k", "tokenEnv": "T"}},
        "spec.gitops.credentials",
        "exactly one",
    ),
    ({"spec.components.grafana": True}, "spec.components.grafana", "unknown key"),
    ({"spec.components.externalDNS": True}, "spec.components.externalDNS", "DNS provider"),
    (
        {
            "spec.components.externalDNS": True,
            "spec.ingress.acme.dns01": {"provider": "cloudflare", "tokenEnv": "CF_API_TOKEN"},
        },
        "spec.components.externalDNS",
        "dns01",
    ),  # a provider without challenge dns01: the installer creates the provider Secret for dns01 only
    (
        {"spec.registries.mirrors": {"Docker.IO": ["https://m.example.com"]}},
        "spec.registries.mirrors.Docker.IO",
        "registry name",
    ),
    (
        {"spec.registries.mirrors": {"ghcr.io:0": ["https://m.example.com"]}},
        "spec.registries.mirrors.ghcr.io:0",
        "registry name",
    ),
    ({"spec.registries.mirrors": {"docker.io": []}}, "spec.registries.mirrors.docker.io", "at least 1"),
    (
        {"spec.registries.mirrors": {"docker.io": ["ftp://m.example.com"]}},
        "spec.registries.mirrors.docker.io[0]",
        "http",
    ),
    (
        {"spec.registries.mirrors": {"*": ["https://u:p@m.example.com"]}},
        "spec.registries.mirrors.*[0]",
        "credentials",
    ),
    (
        {"spec.registries.mirrors": {"*": ["https://m.example.com/v2?x=1"]}},
        "spec.registries.mirrors.*[0]",
        "path",
    ),
    ({"spec.registries.mirrors": {"*": ["https://Mirror_1/v2"]}}, "spec.registries.mirrors.*[0]", "host"),
    (
        {"spec.registries.mirrors": {"*": ["https://m.example.com", "https://m.example.com"]}},
        "spec.registries.mirrors",
        "twice",
    ),
    ({"spec.registries.mirror": {}}, "spec.registries.mirror", "did you mean 'mirrors'"),
    ({"spec.netwrk": {}}, "spec.netwrk", "did you mean 'network'"),
    ({"apiVersion": "skynet.dev/v1"}, "apiVersion", "not allowed"),
    ({"spec.ingress": _DELETE}, "spec.ingress", "required"),
]


@pytest.mark.parametrize(("mutations", "path", "word"), INVALID, ids=[i[1] + ":" + i[2] for i in INVALID])
def test_invalid_answers_name_the_field(example_data: dict, mutations: dict, path: str, word: str) -> None:
    for key, value in mutations.items():
        _set(example_data, key, value)
    issues = spec.check(example_data)
    matching = [i for i in issues if i.path == path]
    assert matching, f"no error at {path}; got {[str(i) for i in issues]}"
    assert any(word in i.message for i in matching), [str(i) for i in matching]


def test_no_controlplane_is_an_error(example_data: dict) -> None:
    for node in example_data["spec"]["nodes"]:
        node["role"] = "worker"
    assert [str(i) for i in spec.check(example_data)] == [
        "spec.nodes: no node has role controlplane; at least one is required"
    ]


def test_a_token_in_the_url_is_not_echoed(example_data: dict) -> None:
    example_data["spec"]["gitops"]["repoURL"] = "https://oauth2:glpat-Secret42@gitlab.example.com/x/y.git"
    assert "glpat-Secret42" not in str(spec.check(example_data))
    example_data["spec"]["gitops"]["repoURL"] = "ssh://git@gitlab.example.com/x/y.git"
    assert spec.check(example_data) == []


def test_unknown_keys_of_any_shape_are_named_where_they_are(example_data: dict) -> None:
    """A key that looks like pydantic's names for union members ("str", "x[y]") is still the operator's key."""
    example_data["apiVers[ion"] = example_data.pop("apiVersion")
    example_data["spec"]["nodes"][3]["installDisk"] = {"str": 1, "function-after[x]": 2}
    assert sorted(str(i) for i in spec.check(example_data)) == [
        "'apiVers[ion': unknown key; did you mean 'apiVersion'?",
        "spec.nodes[3].installDisk.'function-after[x]' (worker-1): unknown key; valid keys: serial, wwid",
        "spec.nodes[3].installDisk.str (worker-1): unknown key; valid keys: serial, wwid",
    ]


def test_an_answers_file_that_is_not_utf8(tmp_path) -> None:
    bad = tmp_path / "cluster.yaml"
    bad.write_bytes(b"\xff\xfe")
    with pytest.raises(spec.SpecError, match="not UTF-8"):
        spec.load(bad)


def test_not_a_mapping_and_bad_yaml() -> None:
    with pytest.raises(spec.SpecError, match="YAML mapping"):
        spec.loads("- a\n- b\n")
    with pytest.raises(spec.SpecError, match="line 2"):
        spec.loads("a: 1\n b: [\n")


@pytest.mark.parametrize(
    ("cps", "acme", "expected"),
    [
        (1, "staging", ["a single control plane"]),
        (2, "staging", ["2 control planes"]),
        (3, "staging", []),
        (3, "production", ["production on a first install"]),
    ],
)
def test_warnings(example_data: dict, cps: int, acme: str, expected: list[str]) -> None:
    nodes = example_data["spec"]["nodes"]
    for i, node in enumerate(nodes):
        node["role"] = "controlplane" if i < cps else "worker"
    example_data["spec"]["ingress"]["acme"]["server"] = acme
    example_data["spec"]["gitops"]["credentials"] = {"sshKeyFile": "~/.ssh/skynet_deploy"}
    found = [w.message for w in spec.warnings(spec.parse(example_data))]
    assert len(found) == len(expected)
    for message, word in zip(found, expected, strict=True):
        assert word in message


def test_ssh_remote_without_a_key_and_cni_none_warn(example_data: dict) -> None:
    example_data["spec"]["kubernetes"]["cni"] = "none"
    found = {w.path: w.message for w in spec.warnings(spec.parse(example_data))}
    assert "Argo CD cannot clone it" in found["spec.gitops.credentials"]
    assert "install your CNI" in found["spec.kubernetes.cni"]
    assert "Talos reboots a node that stays without one for about 10 minutes" in found["spec.kubernetes.cni"]
    example_data["spec"]["gitops"]["repoURL"] = "https://git.example.com/homelab.git"
    assert "spec.gitops.credentials" not in {w.path for w in spec.warnings(spec.parse(example_data))}


def test_a_release_candidate_is_opt_in_and_warned_about(example_data: dict) -> None:
    assert spec.parse(example_data).spec.talos.version == versions.DEFAULT_TALOS == "v1.13.9"
    assert not versions.is_release_candidate(versions.DEFAULT_TALOS) and versions.is_release_candidate(
        "v1.14.0-rc.1"
    )
    assert versions.TALOS_RELEASES["1.13"].k8s_default == versions.DEFAULT_KUBERNETES
    example_data["spec"]["talos"]["version"] = "v1.14.0-rc.1"
    example_data["spec"]["kubernetes"]["version"] = "1.37.0-rc.0"
    found = {w.path: w.message for w in spec.warnings(spec.parse(example_data))}
    assert found["spec.talos.version"] == (
        "v1.14.0-rc.1 is a release candidate (a pre-release, not for production); the stable release is v1.13.9"
    )
    description = spec.json_schema()["$defs"]["Talos"]["properties"]["version"]["description"]
    assert "v1.13.x (stable), or v1.14.0-rc.1 (a release candidate)" in description


def test_talos_114_needs_a_worker(example_data: dict) -> None:
    example_data["spec"]["talos"]["version"] = "v1.14.0-rc.1"
    example_data["spec"]["kubernetes"]["version"] = "1.37.0-rc.0"
    assert spec.check(example_data) == []
    example_data["spec"]["nodes"] = example_data["spec"]["nodes"][:3]
    assert [i.path for i in spec.check(example_data)] == ["spec.nodes"]


def test_production_is_no_warning_after_the_first_install(example_data: dict) -> None:
    example_data["spec"]["gitops"]["credentials"] = {"sshKeyFile": "~/.ssh/skynet_deploy"}
    example_data["spec"]["ingress"]["acme"]["server"] = "production"
    assert spec.warnings(spec.parse(example_data), first_install=False) == []


def test_dns_endpoint_without_vip_is_valid(example_data: dict) -> None:
    example_data["spec"]["controlPlane"] = {"endpoint": "api.example.com", "vip": False}
    assert spec.parse(example_data).spec.control_plane.url == "https://api.example.com:6443"


def test_json_schema_accepts_the_example() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = spec.json_schema()
    jsonschema.Draft202012Validator(schema).validate(yaml.safe_load(EXAMPLE.read_text()))
    assert schema["additionalProperties"] is False


def _properties(schema: dict, node: dict, seen: set[str]) -> Iterator[tuple[str, dict]]:
    """Every (name, property schema) reachable from `node`, following $ref into $defs, items and unions."""
    ref = node.get("$ref")
    if ref and ref not in seen:
        seen.add(ref)
        yield from _properties(schema, schema["$defs"][ref.rsplit("/", 1)[1]], seen)
    for name, prop in node.get("properties", {}).items():
        yield name, prop
        yield from _properties(schema, prop, seen)
    for key in ("anyOf", "oneOf", "allOf"):
        for member in node.get(key, []):
            yield from _properties(schema, member, seen)
    if isinstance(node.get("items"), dict):
        yield from _properties(schema, node["items"], seen)


def test_the_schema_describes_every_property() -> None:
    schema = spec.json_schema()
    found = list(_properties(schema, schema, set()))
    assert len(found) >= 56
    assert [name for name, prop in found if not str(prop.get("description", "")).strip()] == []
    assert {ref for ref in schema["$defs"]} == {
        ref.rsplit("/", 1)[1] for ref in re.findall(r'"\$ref": "([^"]+)"', json.dumps(schema))
    }  # every definition was walked into


def test_the_wizard_help_is_the_first_sentence_of_the_description() -> None:
    assert spec.help_line("metadata.name") == "A DNS label (a-z, 0-9, '-'), at most 40 characters"
    assert spec.help_line("spec.nodes.installDisk").startswith("Talos wipes this disk")
    assert spec.choices("spec.nodes.role") == ("controlplane", "worker")
    assert spec.choices("spec.ingress.acme.dns01.provider") == tuple(spec.DNS01_PROVIDERS)
    assert spec.example("spec.network.subnet") == "192.168.10.0/24"
    assert spec.example("spec.gitops.branch") == "main"  # the default when there is no example
    with pytest.raises(KeyError):
        spec.field_at("spec.network.gatewy")


def test_new_cluster_defaults_come_from_the_model() -> None:
    data = spec.defaults()
    assert data["spec"]["talos"] == {"version": "v1.13.9", "schematic": spec.Talos().schematic}
    assert data["spec"]["nodes"] == [] and data["spec"]["loadBalancer"] == {}
    assert data["spec"]["ingress"] == {"acme": {"server": "staging", "challenge": "http01"}}
    assert data["spec"]["components"] == spec.Components().model_dump(by_alias=True)
    issues = {issue.path for issue in spec.check(data)}
    assert "spec.talos.version" not in issues and "metadata.name" in issues


def test_the_dns01_providers_are_one_table() -> None:
    schema = spec.json_schema()
    provider = schema["$defs"]["Dns01"]["properties"]["provider"]
    allowed = next(member["enum"] for member in provider["anyOf"] if "enum" in member)
    assert allowed == list(spec.DNS01_PROVIDERS)
    for name, entry in spec.DNS01_PROVIDERS.items():
        assert entry.name == name and entry.secret_keys
        assert list(entry.solver("s")[name].values()) == [{"name": "s", "key": k} for k in entry.secret_keys]


def test_one_mac_pattern() -> None:
    assert spec.is_mac("AA:bb:cc:dd:ee:01") and not spec.is_mac("aa-bb-cc-dd-ee-01")
    assert spec.check_mac("AA:BB:CC:DD:EE:01") == "aa:bb:cc:dd:ee:01"


def test_cross_field_rules_are_named_and_run_in_order(example_data: dict) -> None:
    assert [rule.__name__ for rule in spec.RULES] == [
        "node_uniqueness",
        "hardware_uniqueness",
        "control_plane_present",
        "subnet_membership",
        "endpoint_and_vip",
        "load_balancer_pool",
        "pod_and_service_subnets",
        "talos_version_rules",
        "dns01_settings",
        "external_dns_provider",
    ]
    cluster = spec.parse(example_data)
    assert all(rule(cluster) == [] for rule in spec.RULES)
    external = copy.deepcopy(example_data)
    external["spec"]["controlPlane"] = {"endpoint": "api.example.com", "vip": False}
    assert spec.check(external) == []  # an external load balancer in front of the control planes


def test_external_dns_with_a_dns01_provider_is_valid(example_data: dict) -> None:
    example_data["spec"]["ingress"]["acme"] = {
        "email": "ops@example.com",
        "challenge": "dns01",
        "dns01": {"provider": "route53", "tokenEnv": "AWS_DNS"},
    }
    example_data["spec"]["components"] = {"externalDNS": True}
    cluster = spec.parse(example_data)
    assert cluster.spec.components.external_dns is True
    assert spec.to_data(cluster)["spec"]["components"]["externalDNS"] is True
    assert spec.Components().external_dns is False and spec.Components().metrics is True


def test_registry_mirrors_load_and_round_trip(example_data: dict) -> None:
    mirrors = {
        "docker.io": ["https://mirror.example.com", "http://10.5.0.1:5000/v2/docker.io"],
        "registry.local:5000": ["http://10.5.0.1:5001"],
        "*": ["https://harbor.example.com"],
    }
    example_data["spec"]["registries"] = {"mirrors": mirrors}
    cluster = spec.parse(example_data)
    assert cluster.spec.registries.mirrors == mirrors
    assert spec.loads(spec.dump(cluster)) == cluster
    assert spec.parse(spec.to_data(cluster)).spec.registries.mirrors == mirrors
    del example_data["spec"]["registries"]
    assert spec.parse(example_data).spec.registries.mirrors == {}


def test_every_component_switch_has_a_wizard_label() -> None:
    titles = {info.alias: info.title for info in spec.Components.model_fields.values()}
    assert all(titles.values()), titles
    assert titles["externalDNS"] == "External DNS" and titles["metrics"] == "Metrics"
