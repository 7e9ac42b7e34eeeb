"""docs/finance.md's mart reference is rendered from the dbt models' YAML."""

from __future__ import annotations

import pytest
import yaml

from warehouse.mart_docs import BEGIN, END, mart_models, render, update_page


def _project(tmp_path, description="Cost per team | per day."):
    folder = tmp_path / "models" / "marts" / "finance"
    folder.mkdir(parents=True)
    (folder / "mart_finance__unit_cost.yml").write_text(
        yaml.safe_dump(
            {
                "version": 2,
                "models": [
                    {
                        "name": "mart_finance__unit_cost",
                        "description": description,
                        "columns": [
                            {"name": "team", "description": "Team.", "data_type": "varchar"},
                            {
                                "name": "billed_cost",
                                "description": "Billed\n cost.",
                                "data_type": "decimal(38,12)",
                            },
                        ],
                    }
                ],
            }
        )
    )
    return tmp_path


def test_every_model_and_column_is_rendered(tmp_path):
    text = render(mart_models(_project(tmp_path)))
    assert text.startswith(BEGIN) and text.endswith(END)
    assert "### `mart_finance__unit_cost`" in text
    assert "Cost per team \\| per day." in text
    assert "| `billed_cost` | decimal(38,12) | Billed cost. |" in text


def test_the_page_keeps_its_prose_and_replaces_only_the_block(tmp_path):
    page = tmp_path / "finance.md"
    page.write_text(f"# Intro\n\n{BEGIN}\nstale\n{END}\n\nOutro\n")
    assert update_page(page, _project(tmp_path / "p")) is True
    text = page.read_text()
    assert text.startswith("# Intro") and text.endswith("Outro\n") and "stale" not in text
    assert update_page(page, tmp_path / "p") is False


def test_a_page_without_markers_is_refused(tmp_path):
    page = tmp_path / "finance.md"
    page.write_text("# no markers\n")
    with pytest.raises(ValueError, match="marker lines"):
        update_page(page, _project(tmp_path / "p"))


def test_the_shipped_page_documents_every_mart_of_the_project():
    from warehouse.mart_docs import FINANCE_PAGE

    text = FINANCE_PAGE.read_text()
    for model in mart_models():
        if model["name"].startswith(("fct_", "mart_")):
            assert f"### `{model['name']}`" in text, "run python -m warehouse.mart_docs"
