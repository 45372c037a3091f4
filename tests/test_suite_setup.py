"""The suite's own machinery: `make test` runs `pytest -n 2 --dist loadgroup`, and the
expensive session fixtures (the lake, the UI, the user folder) are built once only because
xdist_group sends a group's tests to one worker. pytest 9.2 with pytest-xdist 3.8 silently
broke that (the group never reached the node id) and the suite took 14 minutes instead of 9."""

from __future__ import annotations

import pytest


@pytest.mark.xdist_group("suite_setup")
def test_xdist_groups_reach_the_scheduler(request: pytest.FixtureRequest) -> None:
    if not getattr(request.config.option, "loadgroup", False):  # set on xdist's workers
        pytest.skip("only meaningful under --dist loadgroup (make test)")
    assert request.node.nodeid.endswith("@suite_setup")
