"""The fault schedule: what is due when, for faults that come and (with a duration) go."""

from __future__ import annotations

from harness.schedule import FaultSchedule
from harness.spec import LinkDownFault, PauseFault


def test_faults_come_at_their_offsets_and_go_after_their_duration() -> None:
    faults = (PauseFault(type="pause", service="inventory", at_s=5.0, duration_s=3.0),
              LinkDownFault(type="link_down", at_s=0.0),
              LinkDownFault(type="link_down", at_s=5.0, duration_s=1.0))
    schedule = FaultSchedule.of(faults, start_t_s=100.0)
    assert schedule.next_due_t_s() == 100.0
    assert schedule.due_injections(100.0) == [(1, faults[1])]
    schedule.injected(1, faults[1], 100.0)  # no duration: it stays until the drill ends
    assert schedule.due_injections(104.9) == [] and schedule.next_due_t_s() == 105.0
    due = schedule.due_injections(105.2)
    assert due == [(0, faults[0]), (2, faults[2])], "same offset: in file order"
    for index, fault in due:
        schedule.injected(index, fault, 105.2)
    assert schedule.next_due_t_s() == 106.2
    assert schedule.due_ends(106.0) == []
    assert schedule.due_ends(106.2) == [2]
    assert schedule.due_ends(110.0) == [0]
    assert schedule.next_due_t_s() is None and schedule.due_ends(1e9) == [] and schedule.due_injections(1e9) == []
