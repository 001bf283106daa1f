"""Every page of the documentation runs against a real Directus (pydirectus.testing.examples).

Each page runs in a namespace of its own, in a fresh work folder, with a freshly seeded
`articles` collection: ```python blocks in order (expressions ending ``# -> repr`` are
checked), ```console commands, and the page's test files under pytest.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from pydirectus.testing import DirectusServer
from pydirectus.testing.examples import markdown_examples, run_page, seed_articles

pytestmark = pytest.mark.docs_pages

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = sorted(DOCS.rglob("*.md"))


@pytest.fixture
def articles(directus: DirectusServer) -> Iterator[None]:
    seed_articles(directus.url, directus.admin_token)
    yield
    requests.delete(f"{directus.url}/collections/articles", timeout=60,
                    headers={"Authorization": f"Bearer {directus.admin_token}"})


def test_there_are_pages_and_examples() -> None:
    assert PAGES, f"no documentation pages under {DOCS}"
    assert sum(len(markdown_examples(page)) for page in PAGES) > 0


@pytest.mark.parametrize("page", [p for p in PAGES if markdown_examples(p)],
                         ids=lambda p: str(p.relative_to(DOCS)))
def test_page_examples_run(page: Path, directus: DirectusServer, articles: None,
                           tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"DIRECTUS_URL": directus.url, "DIRECTUS_TOKEN": directus.admin_token,
           "PYDIRECTUS_TEST_URL": directus.url, "PYDIRECTUS_TEST_TOKEN": directus.admin_token,
           "PYDIRECTUS_TEST_EMAIL": directus.admin_email,
           "PYDIRECTUS_TEST_PASSWORD": directus.admin_password}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    namespace = {"url": directus.url, "token": directus.admin_token,
                 "email": directus.admin_email, "password": directus.admin_password}
    printed: list[str] = []
    ran = run_page(page, namespace, workdir=tmp_path, env=dict(os.environ),
                   echo=printed.append)
    assert ran == len(markdown_examples(page)) and printed
