"""Reads that are more than a filter. Every query of user data is scoped by owner."""

from django.db.models import QuerySet

from .models import CandidateResult, Dataset, Run


def datasets_of(user) -> QuerySet[Dataset]:
    return Dataset.objects.filter(owner=user)


def runs_of(user) -> QuerySet[Run]:
    return Run.objects.filter(owner=user).select_related("dataset")


def leaderboard(run: Run) -> list[CandidateResult]:
    """Ranked candidates first, best first, then the ones without a rank in family order."""
    candidates = list(run.candidates.all())
    return sorted(candidates, key=lambda c: (c.rank is None, c.rank or 0, c.position))
