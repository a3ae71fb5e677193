import os
import sys

import pytest
import torch

TRAINING = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(TRAINING)
sys.path.insert(0, TRAINING)

SHARED = os.path.join(os.path.dirname(REPO), "shared", "reference")
if not os.path.isdir(SHARED):
    SHARED = "/work/shared/reference"
GOLDEN_DIR = os.path.join(SHARED, "allscaip-golden")
FIXTURES = os.path.join(REPO, "test", "fixtures")

torch.set_num_threads(1)


@pytest.fixture
def small_model():
    """Factory: a float64 random-weight model from make_fixtures' config builder."""
    import make_fixtures
    from scaip.model import AllScAIP

    def build(seed=0, **flags):
        config = make_fixtures.make_config("test", "test model", **flags)
        model = AllScAIP(config).double()
        make_fixtures.randomize(model, seed)
        return model

    return build


def run(model, structures, **kw):
    from scaip.model import batch_structures

    b = batch_structures(structures, dtype=next(model.parameters()).dtype)
    return model.compute(b["numbers"], b["pos"], b["cell"], b["pbc"], b["charge"], b["spin"], b["natoms"], **kw)
