"""The comparison page's deployment section, drawn by a tag so the page's view need not
know about deployments."""

from django import template

from ..deployment_pages import compare_runs_section, compare_section

register = template.Library()


@register.inclusion_tag("analysis/_deployments.html", takes_context=True)
def deployment_section(context, run, pair) -> dict:
    """The user's deployments of this pair and the form that deploys it."""
    return {**compare_section(context["request"].user, run, pair), "pair": pair,
            "csrf_token": context.get("csrf_token")}  # fmt: skip


@register.inclusion_tag("analysis/_deployments.html", takes_context=True)
def deployment_runs_section(context, run, other) -> dict:
    """The same for two runs on one dataset: their best models."""
    section = compare_runs_section(context["request"].user, run, other)
    return {**(section or {"hidden": True}), "csrf_token": context.get("csrf_token")}
