from __future__ import annotations

import pytest

from youku_tui.engine.parts import (
    DEFAULT_PART_SIZE,
    KIB,
    MAX_PARTS,
    MIB,
    MIN_AUTO_PART_SIZE,
    MIN_PART_SIZE,
    PARTS_PER_CONNECTION,
    PartPlan,
    choose_part_size,
    plan_parts,
)


def test_one_byte_is_one_put() -> None:
    plan = plan_parts(1)
    assert not plan.multipart
    assert plan.count == 1
    assert plan.part_range(1) == (0, 1)


def test_file_under_the_smallest_auto_part_is_one_put() -> None:
    assert not plan_parts(MIN_AUTO_PART_SIZE).multipart
    assert plan_parts(MIN_AUTO_PART_SIZE + 1).count == 2


def test_small_file_gets_parts_for_every_connection_but_none_under_the_floor() -> None:
    # 5 MiB for 128 connections would be 10 KiB parts: the floor (a round trip each) wins.
    plan = plan_parts(5 * MIB, connections=128)
    assert plan.part_size == MIN_AUTO_PART_SIZE >= MIN_PART_SIZE
    assert plan.count == 20
    assert plan.part_range(20) == (19 * MIN_AUTO_PART_SIZE, MIN_AUTO_PART_SIZE)


def test_mid_size_file_keeps_every_connection_busy_with_several_parts() -> None:
    plan = plan_parts(256 * MIB, connections=128)
    assert plan.count >= PARTS_PER_CONNECTION * 128
    assert plan.part_size == 512 * KIB
    sizes = [plan.part_range(n)[1] for n in range(1, plan.count + 1)]
    assert sum(sizes) == plan.file_size
    # Fewer connections allowed: fewer, bigger parts.
    assert plan_parts(256 * MIB, connections=8).part_size == 8 * MIB


def test_big_file_parts_stop_growing_at_the_default_size() -> None:
    plan = plan_parts(50 * 1024 * MIB, connections=128)  # 50 GiB
    assert plan.part_size == DEFAULT_PART_SIZE
    assert plan.count <= MAX_PARTS


def test_last_part_holds_the_rest() -> None:
    plan = plan_parts(25 * MIB + 7, preferred=DEFAULT_PART_SIZE)
    assert plan.count == 3
    assert plan.part_range(3) == (2 * DEFAULT_PART_SIZE, 5 * MIB + 7)


@pytest.mark.parametrize("size", [100 * 1024 * MIB, 100 * 1024 * MIB + 1, 200 * 1024 * MIB + 123])
def test_huge_file_stays_within_ten_thousand_parts(size: int) -> None:
    for preferred in (0, MIN_PART_SIZE, DEFAULT_PART_SIZE):
        plan = plan_parts(size, preferred)
        assert plan.count <= MAX_PARTS
        assert plan.part_size % MIB == 0
        assert plan.part_size >= MIN_PART_SIZE
        assert plan.part_range(plan.count)[0] < size


def test_chosen_sizes_are_never_under_the_oss_minimum() -> None:
    for size in (1, 1000, 100 * KIB, MIB, 3 * MIB + 5, 77 * MIB, 5 * 1024 * MIB):
        for connections in (1, 8, 128, 10_000):
            part = choose_part_size(size, connections=connections)
            assert part >= MIN_PART_SIZE
            assert PartPlan(size, part).count <= MAX_PARTS


def test_preferred_size_is_kept_but_never_below_minimum() -> None:
    assert choose_part_size(10 * MIB, 256 * 1024) == 256 * 1024
    assert choose_part_size(10 * MIB, 1000) == MIN_PART_SIZE


def test_part_range_bounds() -> None:
    plan = PartPlan(file_size=1000, part_size=MIN_PART_SIZE)
    with pytest.raises(ValueError, match="outside"):
        plan.part_range(2)
    with pytest.raises(ValueError, match="outside"):
        plan.part_range(0)


def test_empty_file_has_no_plan() -> None:
    with pytest.raises(ValueError, match="empty"):
        plan_parts(0)
