"""Column headings copied into table cells for the phone layout (grants/core/tables.py), and the data_table macro
that uses them."""

from __future__ import annotations

import re

from flask import render_template_string
from markupsafe import Markup

from grants import create_app
from grants.core.tables import label_cells


def test_each_data_cell_gets_its_columns_heading_and_role() -> None:
    rows = label_cells(
        '<tr class="govuk-table__row"><th scope="row" class="govuk-table__header">Ann</th>'
        '<td class="govuk-table__cell">ann@example.org</td><td class="govuk-table__cell">x</td></tr>'
        '<tr class="govuk-table__row"><th scope="row">Bo</th><td>bo@example.org</td><td>y</td></tr>',
        ["Name", "Email", ("Actions", "hidden")],
    )
    assert isinstance(rows, Markup)
    assert str(rows) == (
        '<tr class="govuk-table__row" role="row"><th scope="row" class="govuk-table__header" role="rowheader">Ann</th>'
        '<td class="govuk-table__cell" data-label="Email" role="cell">ann@example.org</td>'
        '<td class="govuk-table__cell" role="cell">x</td></tr>'
        '<tr class="govuk-table__row" role="row"><th scope="row" role="rowheader">Bo</th>'
        '<td data-label="Email" role="cell">bo@example.org</td><td role="cell">y</td></tr>'
    )


def test_a_cell_spanning_columns_moves_the_count_on() -> None:
    rows = label_cells('<tr><th scope="row" colspan="2">Total</th><td class="x">£5.00</td></tr>',
                       ["Item", "Type", ("Cost", "numeric")])
    assert '<td class="x" data-label="Cost" role="cell">£5.00</td>' in rows


def test_headings_are_escaped_and_cell_text_is_left_alone() -> None:
    rows = label_cells(Markup("<tr><td>&lt;td&gt; 5 &amp; 6</td><td>b</td></tr>"), ['Say "hi"', "<b>"])
    assert str(rows) == ('<tr role="row"><td data-label="Say &#34;hi&#34;" role="cell">&lt;td&gt; 5 &amp; 6</td>'
                         '<td data-label="&lt;b&gt;" role="cell">b</td></tr>')


def test_cells_past_the_headings_and_own_attributes_are_kept() -> None:
    rows = label_cells('<tr role="presentation"><td data-label="Mine">a</td><td>b</td></tr>', ["One"])
    assert str(rows) == '<tr role="presentation"><td data-label="Mine" role="cell">a</td><td role="cell">b</td></tr>'


TABLE = """{% from "_macros.html" import data_table %}
{% call data_table("People", headings, focusable=focusable, stack=stack) %}<tr class="govuk-table__row"><td class="govuk-table__cell">{{ cell }}</td></tr>{% endcall %}"""


def render(headings: list[object], focusable: bool = True, stack: bool | None = None, cell: str = "Ann") -> str:
    app = create_app("testing")
    with app.test_request_context():
        return render_template_string(TABLE, headings=headings, focusable=focusable, stack=stack, cell=cell)


def test_the_macro_stacks_wide_tables_and_tables_of_fields_on_a_phone() -> None:
    wide = render(["Name", "Email", "Role", ("Actions", "hidden")])
    assert 'class="govuk-table app-table--stack" role="table"' in wide
    assert '<td class="govuk-table__cell" data-label="Name" role="cell">Ann</td>' in wide
    assert wide.count('role="columnheader"') == 4 and wide.count('role="rowgroup"') == 2
    fields = render(["Item", "Cost"], focusable=False)
    assert "app-table--stack" in fields and 'tabindex="0"' not in fields
    # A short table stays a table on a phone (it scrolls in its region if it must); the caller can say otherwise.
    short = render(["Name", "Email"])
    assert "app-table--stack" not in short and "data-label" not in short and 'role="cell"' not in short
    assert 'tabindex="0" role="region" aria-label="People"' in short
    assert "app-table--stack" in render(["Name", "Email"], stack=True)
    assert "app-table--stack" not in render(["A", "B", "C", "D"], stack=False)


def test_text_in_a_stacked_table_stays_escaped() -> None:
    html = render(["A", "B", "C", "D"], cell="<td>&")
    assert re.search(r'data-label="A" role="cell">&lt;td&gt;&amp;</td>', html), html
