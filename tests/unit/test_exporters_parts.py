"""How a model family's export template gives its code parts (exporters.render_parts)."""

import pytest

from exporters import render_parts


def test_a_code_template_with_text_outside_its_parts_is_refused(tmp_path):
    template = tmp_path / "family.export.j2"
    template.write_text("{% set fit %}\nreturn 1\n{% endset %}\nstray = 1\n")

    with pytest.raises(ValueError, match="outside"):
        render_parts(template)


def test_a_code_template_part_that_is_not_text_is_refused_unless_it_is_a_helper(tmp_path):
    template = tmp_path / "family.export.j2"
    template.write_text("{% set _wide = 3 > 2 %}{% set fit %}{{ _wide }}{% endset %}")
    assert render_parts(template) == {"fit": "True"}

    template.write_text("{% set wide = 3 > 2 %}{% set fit %}{{ wide }}{% endset %}")
    with pytest.raises(ValueError, match="'wide' is neither text nor a list of strings"):
        render_parts(template)
