import json
import os

import torch

from conftest import SHARED
from scaip.sh import spherical_harmonics


def test_matches_e3nn_vectors():
    with open(os.path.join(SHARED, "e3nn-sh-vectors.json")) as f:
        ref = json.load(f)
    directions = torch.tensor(ref["directions"], dtype=torch.float64)
    assert directions[-1].abs().sum() == 0  # the zero vector (self-loop) is part of the reference set
    for lmax, key in ((5, "lmax5"), (9, "lmax9")):
        expected = torch.tensor(ref[key], dtype=torch.float64)
        got = spherical_harmonics(lmax, directions)
        assert got.shape == expected.shape
        assert (got - expected).abs().max() <= 1e-12


def test_component_normalisation():
    u = torch.nn.functional.normalize(torch.randn(50, 3, dtype=torch.float64), dim=-1)
    y = spherical_harmonics(9, u)
    for l in range(10):
        block = y[:, l * l:(l + 1) ** 2]
        assert torch.allclose((block * block).sum(-1), torch.full((50,), 2.0 * l + 1, dtype=torch.float64), atol=1e-11)
