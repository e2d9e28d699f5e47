"""Step 1, the cluster: name, workspace folder, Talos and Kubernetes versions, CNI, subnets, schematic."""

from __future__ import annotations

from textual.app import ComposeResult

from skynet_tui.screens.wizard.base import StepScreen
from skynet_tui.screens.wizard.fields import FieldRow
from skynet_tui.wizard import catalog, checks
from skynet_tui.wizard.checks import StepCheck


class ClusterStep(StepScreen):
    """Shows the cluster's name and where its workspace goes, the Talos version with its release channel
    (stable, or a release candidate), the Kubernetes version with the range the Talos version supports, the
    CNI, the pod and service subnets and the Image Factory schematic."""

    STEP = "cluster"
    HEADING = "Name the cluster and pick the versions; the defaults are the tested ones."

    def compose_body(self) -> ComposeResult:
        data = self.wizard.answers.data
        helps = {"spec.kubernetes.version": checks.kubernetes_help, "spec.talos.version": checks.talos_help}
        for spec_field in catalog.fields_of(self.STEP):
            helper = helps.get(spec_field.path)
            help_text = helper(data) if helper else None
            yield FieldRow(spec_field, self.initial_value(spec_field), help=help_text)

    def on_mount(self) -> None:
        self._workspace_placeholder()
        super().on_mount()

    def answers_changed(self, path: str) -> None:
        if path == "spec.talos.version":
            row = self.query_one("#row-" + catalog.widget_id("spec.kubernetes.version"), FieldRow)
            row.set_help(checks.kubernetes_help(self.wizard.answers.data))
            row = self.query_one("#row-" + catalog.widget_id("spec.talos.version"), FieldRow)
            row.set_help(checks.talos_help(self.wizard.answers.data))
        elif path == "metadata.name":
            self._workspace_placeholder()

    def _workspace_placeholder(self) -> None:
        row = self.query_one("#row-" + catalog.widget_id(catalog.WORKSPACE), FieldRow)
        name = self.wizard.answers.name
        row.set_placeholder(f"default: ./{name}" if name else "default: ./<cluster name>")

    def check(self) -> StepCheck:
        result = super().check()
        errors, notes = checks.check_workspace(self.wizard.answers)
        if errors and self.wizard.answers.name:
            result.errors[catalog.WORKSPACE] = errors
        result.notes.setdefault(catalog.WORKSPACE, []).extend(notes)
        if not result.notes[catalog.WORKSPACE]:
            del result.notes[catalog.WORKSPACE]
        return result
