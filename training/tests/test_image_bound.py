"""Periodic images are bounded before any is enumerated (issue 12): a thin cell or an absurd cutoff is refused
with the heights, the cutoff and the image count, instead of an (n, n, M) array of unbounded size."""
import pytest
import torch

from conftest import run
from scaip.graph import MAX_PERIODIC_IMAGES, PeriodicImageError, image_offsets

WATER = {"numbers": [8, 1, 1], "positions": [[0.0, 0.0, 0.0], [0.96, 0.0, 0.0], [-0.24, 0.93, 0.0]],
         "pbc": [True, True, True], "charge": 0, "spin": 1}


def test_thin_cell_is_refused_with_heights_cutoff_and_image_count():
    cell = torch.tensor([[10.0, 0, 0], [0, 10.0, 0], [0, 0, 0.05]], dtype=torch.float64)
    with pytest.raises(PeriodicImageError) as err:
        image_offsets(cell, torch.tensor([True, True, True]), 6.0)
    e = err.value
    assert e.repeats == [1, 1, 120] and e.images == 3 * 3 * 241
    assert [round(h, 6) for h in e.heights] == [10.0, 10.0, 0.05]
    assert "heights are 10, 10, 0.05 A" in str(e) and "2,169 images in all; at most 1,331" in str(e)


def test_absurd_cutoff_on_a_water_box_is_refused():
    cell = torch.eye(3, dtype=torch.float64) * 12.4
    with pytest.raises(PeriodicImageError, match="81, 81, 81 periodic repeats each way, 4,330,747 images"):
        image_offsets(cell, torch.tensor([True, True, True]), 1000.0)


def test_degenerate_cell_is_refused_and_non_periodic_axes_do_not_count():
    flat = torch.tensor([[10.0, 0, 0], [10.0, 0, 0], [0, 0, 10.0]], dtype=torch.float64)
    with pytest.raises(PeriodicImageError, match="infinitely many images"):
        image_offsets(flat, torch.tensor([True, True, True]), 6.0)
    # a slab thin along its non-periodic axis needs no images there
    slab = torch.tensor([[10.0, 0, 0], [0, 10.0, 0], [0, 0, 0.05]], dtype=torch.float64)
    assert image_offsets(slab, torch.tensor([True, True, False]), 6.0).shape == (9, 3)
    # the limit itself is allowed: 5 repeats each way on all axes
    edge = torch.eye(3, dtype=torch.float64) * 1.2
    assert image_offsets(edge, torch.tensor([True, True, True]), 6.0).shape == (MAX_PERIODIC_IMAGES, 3)


def test_the_model_refuses_a_thin_cell_before_building_the_graph(small_model):
    model = small_model(seed=3)
    s = dict(WATER, cell=[[10.0, 0, 0], [0, 10.0, 0], [0, 0, 0.05]])
    with pytest.raises(PeriodicImageError):
        run(model, [s])
    # an ordinary box still runs
    out = run(model, [dict(WATER, cell=[[10.0, 0, 0], [0, 10.0, 0], [0, 0, 10.0]])])
    assert torch.isfinite(out["energy"]).all()
