import pytest

from content.templates import Templates, load_templates
from dialogs.replies import Replies


@pytest.fixture(scope="session")
def templates() -> Templates:
    return load_templates()


@pytest.fixture
def replies(templates: Templates) -> Replies:
    return Replies(templates)
