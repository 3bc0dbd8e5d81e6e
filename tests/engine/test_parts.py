from __future__ import annotations

import pytest

from youku_tui.engine.parts import (
    DEFAULT_PART_SIZE,
    MAX_PARTS,
    MIB,
    MIN_PART_SIZE,
    PartPlan,
    choose_part_size,
    plan_parts,
)


def test_small_file_is_one_put() -> None:
    plan = plan_parts(5 * MIB)
    assert not plan.multipart
    assert plan.count == 1
    assert plan.part_range(1) == (0, 5 * MIB)


def test_default_part_size_and_last_part() -> None:
    plan = plan_parts(25 * MIB + 7)
    assert plan.part_size == DEFAULT_PART_SIZE
    assert plan.multipart
    assert plan.count == 3
    assert plan.part_range(3) == (2 * DEFAULT_PART_SIZE, 5 * MIB + 7)
    sizes = [plan.part_range(n)[1] for n in range(1, plan.count + 1)]
    assert sum(sizes) == plan.file_size


def test_huge_file_stays_within_ten_thousand_parts() -> None:
    size = 200 * 1024 * MIB + 123  # 200 GiB
    plan = plan_parts(size)
    assert plan.count <= MAX_PARTS
    assert plan.part_size % MIB == 0
    assert plan.part_size >= MIN_PART_SIZE


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
