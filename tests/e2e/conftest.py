from __future__ import annotations

import pytest

from tests.support.stack import LocalStack


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """One running local stack (Azurite + local host) shared by the e2e tests."""
    s = LocalStack(tmp_path_factory.mktemp("stack")).start()
    yield s
    s.close()
