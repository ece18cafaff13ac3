"""The demo scenario is played once for every test of what the office reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.office.documents import run_scenario

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


def pytest_collection_modifyitems(items):
    """The replay runs in the setup of the first test that reads it: ~4 minutes on a
    quiet 2-core machine, up to 9 when the suite's other processes share the cores (each
    site crawl is a child process), past the suite's 300-second limit."""
    for item in items:
        if "office_documents" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.timeout(900))


@pytest.fixture(scope="session")
def office_documents(tmp_path_factory):
    docs = run_scenario(tmp_path_factory.mktemp("office"))
    docs.write(ARTIFACTS / "office")  # to look at; tests/artifacts/ is not committed
    return docs


# The incident builders (config, outbox, world) for the unit tests beside the scenario.
from tests.incidents.conftest import config, outbox, world  # noqa: F401
