"""The API tokens page: a user creates named personal tokens, sees each new one once, and
revokes any of them (analysis/tokens.py keeps only their hashes)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from . import tokens


@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    """GET: the user's tokens. POST: a new one, named, shown on the answer and never again."""
    context = {"max_name": tokens.MAX_NAME, "error": "", "name": ""}
    status = 200
    if request.method == "POST":
        name = request.POST.get("name", "")
        try:
            token, key = tokens.token_create(owner=request.user, name=name)
        except tokens.TokenError as exc:
            context.update(error=str(exc), name=name)
            status = 400
        else:
            context.update(new_token=token, new_key=key)
            status = 201
    context["tokens"] = tokens.tokens_of(request.user)
    return render(request, "analysis/api_tokens.html", context, status=status)


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = tokens.token_revoke(owner=request.user, token_id=pk)
    if token is None:
        messages.error(request, "There is no such token of yours: it may be revoked already.")
    else:
        messages.success(request, f"Revoked “{token.name}”: it no longer opens the API.")
    return redirect("api_tokens")
