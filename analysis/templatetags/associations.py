"""{% target_associations dataset target %}: the dataset page's section of how each column
goes with the target (analysis/dataset_associations.py)."""

from django import template

from ..dataset_associations import RULE, associations, associations_figure

register = template.Library()


@register.inclusion_tag("analysis/_associations.html")
def target_associations(dataset, target: str) -> dict:
    found = associations(dataset, target)
    return {"figure": associations_figure(found, target), "rule": RULE, "target": target}
