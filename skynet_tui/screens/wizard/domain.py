"""Step 4, domain and TLS: the apps' domain, the ACME account, staging or production, HTTP-01 or DNS-01."""

from __future__ import annotations

from skynet_tui.screens.wizard.base import StepScreen
from skynet_tui.screens.wizard.fields import FieldRow
from skynet_tui.wizard import catalog, state

_DNS01_FIELDS = ("spec.ingress.acme.dns01.provider", "spec.ingress.acme.dns01.tokenEnv")


class DomainStep(StepScreen):
    """Shows the domain the platform's apps answer under, the ACME e-mail, the Let's Encrypt server
    (staging or production) and the challenge; DNS-01 adds the DNS provider and the name of the environment
    variable that holds its API token (the token itself is never written anywhere)."""

    STEP = "domain"
    HEADING = "Where the apps answer and how their TLS certificates are obtained (cert-manager + ACME)."

    def on_mount(self) -> None:
        self._show_dns01()
        super().on_mount()

    def answers_changed(self, path: str) -> None:
        if path == "spec.ingress.acme.challenge":
            if self._dns01():
                # The rows kept what was typed while hidden; put it back into the answers.
                for field_path in _DNS01_FIELDS:
                    row = self._row(field_path)
                    self.apply(row.spec_field, row.current_value())
            self._show_dns01()

    def _dns01(self) -> bool:
        return state.get_value(self.wizard.answers.data, "spec.ingress.acme.challenge") == "dns01"

    def _row(self, path: str) -> FieldRow:
        return self.query_one("#row-" + catalog.widget_id(path), FieldRow)

    def _show_dns01(self) -> None:
        for field_path in _DNS01_FIELDS:
            self._row(field_path).display = self._dns01()
