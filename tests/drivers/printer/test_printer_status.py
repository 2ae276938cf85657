from __future__ import annotations

import pytest

from drivers.printer.status import (
    PrinterState,
    PrinterStatus,
    StatusCause,
    parse_status_byte,
    status_from_replies,
)


@pytest.mark.parametrize(
    ("n", "reply", "causes"),
    [
        (1, 0x12, set()),
        (2, 0x12, set()),
        (4, 0x12, set()),
        (1, 0x1A, {StatusCause.OFFLINE}),
        (2, 0x32, {StatusCause.PAPER_END}),
        (2, 0x16, {StatusCause.COVER_OPEN}),
        (4, 0x1E, {StatusCause.PAPER_NEAR_END}),
        (4, 0x7E, {StatusCause.PAPER_END, StatusCause.PAPER_NEAR_END}),
        (4, 0x72, {StatusCause.PAPER_END}),
    ],
)
def test_status_byte_causes(n: int, reply: int, causes: set[StatusCause]) -> None:
    assert parse_status_byte(n, reply) == frozenset(causes)


@pytest.mark.parametrize("reply", [0x00, 0xFF, 0x13, 0x92])
def test_non_status_byte_is_rejected(reply: int) -> None:
    assert parse_status_byte(1, reply) is None


def test_all_clear_replies_are_ok() -> None:
    status = status_from_replies({1: 0x12, 2: 0x12, 4: 0x12})
    assert status.state is PrinterState.OK
    assert status.can_print


def test_paper_end_replies_are_problem() -> None:
    status = status_from_replies({1: 0x1A, 2: 0x32, 4: 0x7E})
    assert status.state is PrinterState.PROBLEM
    assert status.primary_cause is StatusCause.PAPER_END
    assert not status.can_print


def test_cover_open_comes_before_offline() -> None:
    status = status_from_replies({1: 0x1A, 2: 0x16, 4: 0x12})
    assert status.causes == {StatusCause.COVER_OPEN, StatusCause.OFFLINE}
    assert status.primary_cause is StatusCause.COVER_OPEN


def test_near_end_alone_still_prints() -> None:
    status = status_from_replies({1: 0x12, 2: 0x12, 4: 0x1E})
    assert status.state is PrinterState.PROBLEM
    assert status.causes == {StatusCause.PAPER_NEAR_END}
    assert status.can_print


def test_missing_reply_is_unknown() -> None:
    status = status_from_replies({1: 0x12})
    assert status.state is PrinterState.UNKNOWN
    assert "DLE EOT 2" in status.detail


def test_garbled_reply_is_unknown() -> None:
    status = status_from_replies({1: 0x12, 2: 0xFF, 4: 0x12})
    assert status.state is PrinterState.UNKNOWN
    assert "0xFF" in status.detail


def test_unknown_status_cannot_print() -> None:
    assert not PrinterStatus.unknown("no reply").can_print
