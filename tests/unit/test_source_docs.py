"""docs/sources.md is generated from the contracts; it must never drift from them."""

from __future__ import annotations

from probation_evidence import settings
from probation_evidence.sources import source_docs
from probation_evidence.sources.contracts import CONTRACTS


def test_committed_sources_doc_matches_the_contracts():
    committed = (settings.project_root() / "docs" / "sources.md").read_text()
    assert committed == source_docs.render(), "run: python -m probation_evidence.sources.source_docs"


def test_every_entity_and_field_is_documented():
    text = source_docs.render()
    for contract in CONTRACTS.values():
        assert f"### {contract.source}.{contract.entity} (v{contract.version})" in text
        for field in contract.fields:
            assert f"| `{field.name}` | {field.kind} |" in text
