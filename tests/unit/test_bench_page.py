"""python -m benchmarks rewrites only the generated part of docs/performance.md."""

from __future__ import annotations

from pathlib import Path

from benchmarks import report

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results.json"


def test_the_prose_around_the_marks_stays_and_the_tables_are_rewritten(tmp_path: Path) -> None:
    page = tmp_path / "performance.md"
    page.write_text(f"# Performance\n\nprose before\n\n{report.START}\nold table\n{report.END}\n"
                    "\nprose after\n")
    report.write_page(report.load(RESULTS), page)
    text = page.read_text()
    assert "prose before" in text and "prose after" in text and "old table" not in text
    assert "| Workload |" in text and "The targets this benchmark checks:" in text
    assert text.count(report.START) == 1 and text.count(report.END) == 1


def test_a_page_without_marks_gets_the_section_appended(tmp_path: Path) -> None:
    page = tmp_path / "performance.md"
    page.write_text("# Performance\n")
    report.write_page(report.load(RESULTS), page)
    assert page.read_text().startswith(f"# Performance\n\n{report.SECTION}\n\n{report.START}")
