"""Sampling groups of a training preset: data-set groups, and groups picked by trajectory id prefix."""
import os
import sys
from types import SimpleNamespace

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from train import PRESETS, group_members  # noqa: E402


def trajs(*pairs):
    return [SimpleNamespace(name=n, group=g) for n, g in pairs]


def test_prefix_group_picks_by_id_and_keeps_the_dataset_group():
    train = trajs(("w64_T300_rho1.0_r0", "w64"), ("rattle_rho1.0", "al"), ("al1_T400_rho1.1", "al"),
                  ("al2_T300_rho1.0", "al"), ("al2_T300_npt", "al"), ("vac4_T250_r1", "vacuum"),
                  ("w216_T300_r0", "w216"))
    m = group_members(train, PRESETS["water-small-al2"])
    assert m["al2"] == [3, 4]
    assert m["al"] == [1, 2, 3, 4]
    assert m["w64"] == [0] and m["vacuum"] == [5] and m["w216"] == [6]


def test_third_round_has_its_own_group_beside_the_second():
    train = trajs(("w64_T300_rho1.0_r0", "w64"), ("al2_T300_npt", "al"), ("al3_T300_npt_r0", "al"),
                  ("al3_T300_npt_r1", "al"), ("vac4_T250_r1", "vacuum"), ("w216_T300_r0", "w216"))
    m = group_members(train, PRESETS["water-small-al3"])
    assert m["al3"] == [2, 3] and m["al2"] == [1]
    assert m["al"] == [1, 2, 3]


def test_presets_without_prefixes_are_unchanged():
    train = trajs(("w64_a", "w64"), ("al2_x", "al"), ("v", "vacuum"), ("w216_a", "w216"))
    assert group_members(train, PRESETS["water-small-smooth"])["al"] == [1]


def test_an_empty_group_is_refused_by_name():
    train = trajs(("w64_a", "w64"), ("rattle", "al"), ("v", "vacuum"), ("w216_a", "w216"))
    with pytest.raises(RuntimeError, match="al2"):
        group_members(train, PRESETS["water-small-al2"])
