"""The redactor: what it masks, and that a hostile megabyte-long line cannot stall it."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import textwrap

from skynet_tui.redact import MASK, Redactor

MEGABYTE = 1 << 20
# Lines that made the old patterns backtrack: a 40,000-character hostname took 22 s, so 1 MB took hours. A
# linear redactor does each in well under a second; the timeout only bounds a hang (the bench holds timings).
HOSTILE = {
    "hostname": "h" * MEGABYTE,
    "tokens": "token" * (MEGABYTE // 5),
    "password-keys": "password:" * (MEGABYTE // 9),
    "base64-ish": ("Ab1" * 13 + "/-") * (MEGABYTE // 41),
    "url-users": "https://" + ("u" * 30 + ":") * (MEGABYTE // 31),
    "pem-begins": "-----BEGIN X-----" * (MEGABYTE // 17),
    "bearer": "bearer " * (MEGABYTE // 7),
    "dots": "abcdef." * (MEGABYTE // 7),
}
CHILD = textwrap.dedent("""
    import json, sys
    from skynet_tui.redact import Redactor
    redact = Redactor(["known-secret-value-0123"])
    for name, line in json.load(sys.stdin).items():
        out = redact(line)
        print(json.dumps([name, len(out), out.count("«redacted»")]), flush=True)
""")


def test_a_megabyte_of_hostile_text_is_redacted_in_linear_time() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD], input=json.dumps(HOSTILE), capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    done = {name: (length, masks) for name, length, masks in map(json.loads, proc.stdout.splitlines())}
    assert done.keys() == HOSTILE.keys()
    assert done["hostname"] == (MEGABYTE, 0) and done["tokens"][1] == 0  # nothing secret-shaped in them
    assert done["base64-ish"][1] == 0  # runs mixing '/' with '-' are paths, not keys
    assert done["pem-begins"][1] == 1  # one unterminated PEM block: masked to the end of the line


def test_what_is_masked() -> None:
    redact = Redactor(["s3cr3t-value-from-a-file"])
    assert redact("using s3cr3t-value-from-a-file now") == f"using {MASK} now"
    assert redact("password: hunter22") == f"password: {MASK}"
    assert redact("https://ops:pa55w0rd@git.example.com/x.git") == f"https://{MASK}@git.example.com/x.git"
    token = "ghp_" + "Q9x" * 12
    assert token not in redact(f"https://{token}@github.com/x.git")
    assert redact("join with abcdef.0123456789abcdef") == f"join with {MASK}"
    assert (
        redact("spec.nodes[0].hostname: holds a line break") == "spec.nodes[0].hostname: holds a line break"
    )


def test_a_rendered_chart_teaches_only_its_secrets(tmp_path) -> None:
    """A chart rendered into secrets/ (Argo CD's install manifests) holds CRD descriptions, names and kinds: only
    its Secrets' values are learnt, so ordinary words stay readable in every log line."""
    password = "Zq7-unguessable-pw"
    manifests = tmp_path / "argocd-install.yaml"
    manifests.write_text(
        textwrap.dedent(f"""
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {{name: applications.argoproj.io}}
        spec:
          names: {{kind: Application, plural: applications}}
          description: Application is a definition of Application resource
        ---
        apiVersion: v1
        kind: Secret
        metadata: {{name: argocd-secret}}
        data:
          admin.password: {base64.b64encode(password.encode()).decode()}
        stringData:
          server.secretkey: plain-secret-key-42
        """)
    )
    redact = Redactor()
    redact.add_file(manifests)
    line = "kubectl get applications -n argocd: Application is a definition of Application resource"
    assert redact(line) == line
    assert redact(f"pw {password} key plain-secret-key-42") == f"pw {MASK} key {MASK}"
    assert base64.b64encode(password.encode()).decode() not in redact(
        base64.b64encode(password.encode()).decode()
    )
