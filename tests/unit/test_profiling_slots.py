"""Per-user profiling slots in the real Redis: taken, refused when full, freed, lapsed."""

import time

import pytest
import redis
from django.conf import settings

from analysis import profiling_slots
from analysis.profiling_slots import SlotsTaken, profiling_slot, slots_in_use

pytestmark = pytest.mark.django_db


@pytest.fixture
def slots(settings, profiled_dataset):
    settings.PROMISE_PROFILES_PER_USER = 1
    client = redis.Redis.from_url(settings.REDIS_URL)
    key = profiling_slots._key(profiled_dataset.owner_id)
    client.delete(key)
    yield client, key
    client.delete(key)


def test_a_second_profile_of_the_same_user_waits_for_the_first(slots, profiled_dataset):
    with profiling_slot(profiled_dataset.pk):
        assert slots_in_use(profiled_dataset.owner_id) == 1
        with pytest.raises(SlotsTaken):
            with profiling_slot(profiled_dataset.pk):
                pass
    assert slots_in_use(profiled_dataset.owner_id) == 0
    with profiling_slot(profiled_dataset.pk):  # free again
        pass


def test_a_slot_whose_holder_died_lapses(slots, profiled_dataset):
    client, key = slots
    # What a killed worker leaves: a claim nobody renews, lapsed a moment ago.
    client.zadd(key, {"dead-worker": time.time() - 1})
    with profiling_slot(profiled_dataset.pk):
        assert slots_in_use(profiled_dataset.owner_id) == 1


def test_another_users_profile_is_not_held_up(slots, profiled_dataset, outsider):
    from django.core.files.base import ContentFile

    from analysis.models import Dataset

    theirs = Dataset(owner=outsider, name="theirs.csv")
    theirs.file.save("theirs.csv", ContentFile(b"a\n1\n"), save=True)
    with profiling_slot(profiled_dataset.pk), profiling_slot(theirs.pk):
        assert slots_in_use(outsider.pk) == 1
    profiling_slots._client().delete(profiling_slots._key(outsider.pk))


def test_the_holder_renews_its_claim(slots, profiled_dataset, monkeypatch):
    client, key = slots
    monkeypatch.setattr(profiling_slots, "SLOT_SECONDS", 0.6)
    with profiling_slot(profiled_dataset.pk):
        time.sleep(1.5)  # past two lapses: only renewal keeps it
        assert slots_in_use(profiled_dataset.owner_id) == 1
    assert settings.PROMISE_PROFILES_PER_USER == 1
