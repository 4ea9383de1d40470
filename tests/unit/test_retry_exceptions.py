"""The exceptions behind a task's retry survive pickling, as between a worker's pool
process and its main process (an exception that cannot be unpickled there stops the
whole worker with "Unrecoverable error")."""

import pickle

import pytest

from analysis.leases import LeaseHeld
from analysis.profiling_slots import SlotsTaken


@pytest.mark.parametrize("kind", [LeaseHeld, SlotsTaken])
def test_it_unpickles_with_its_seconds_and_message(kind):
    raised = kind(12.5)
    again = pickle.loads(pickle.dumps(raised))
    assert (type(again), again.seconds, str(again)) == (kind, 12.5, str(raised))
