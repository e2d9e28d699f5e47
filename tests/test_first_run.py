"""The first run as a newcomer meets it: `skynet demo` walks the wizard from its first step to the console."""

from __future__ import annotations

from pathlib import Path

import pytest

from skynet_tui.app import DemoArgs, SkynetApp
from skynet_tui.wizard.catalog import STEP_IDS
from tests.bootstrap_helpers import wait_until
from tests.lab_helpers import FAST_LATENCY

SIZE = (120, 40)


@pytest.mark.usefixtures("git")
@pytest.mark.slow
@pytest.mark.lab
@pytest.mark.asyncio
async def test_the_interactive_demo_walks_from_the_first_step_to_the_console_with_ctrl_n_only(
    tmp_path: Path,
) -> None:
    from skynet_tui.demo import demo_env, prepare_demo
    from skynet_tui.screens.bootstrap import BootstrapScreen
    from skynet_tui.screens.console import ConsoleScreen

    lab, cluster, ws = prepare_demo(tmp_path / "demo", "1+1", latency=dict(FAST_LATENCY))
    try:
        env = {**demo_env(lab), "SKYNET_TIMING_SCALE": "0.01"}
        app = SkynetApp(demo=DemoArgs(cluster, ws, env))
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            seen = []
            for step in STEP_IDS:
                await wait_until(
                    pilot, lambda step=step: getattr(app.screen, "STEP", None) == step, what=step
                )
                seen.append(step)
                wizard = app.wizard
                assert wizard is not None and "SIMULATED LAB" in wizard.heading()
                assert app.screen.result.ok, (step, app.screen.result)
                await pilot.press("ctrl+n")
            assert seen == list(STEP_IDS)  # the first step is the cluster's, not the review
            await wait_until(pilot, lambda: isinstance(app.screen, BootstrapScreen), what="the install")
            install = app.screen
            assert isinstance(install, BootstrapScreen)
            await wait_until(
                pilot, lambda: install.phase in ("succeeded", "failed"), timeout=240, what="the install's end"
            )
            assert install.phase == "succeeded"
            await pilot.press("enter")  # "Install complete": continue
            await wait_until(pilot, lambda: isinstance(app.screen, ConsoleScreen), what="the console")
            assert (ws.root / "cluster.yaml").is_file()
    finally:
        lab.stop()
