"""export.heldout_case writes the held-out frame with its own charge and spin (organic ions and radicals), and the
outputs it stores are the model's on that charge and spin: the TypeScript runtimes reproduce exactly this case."""
import json
import os

import numpy as np
import pytest

from datasets import Trajectory
from export import heldout_case

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURE = os.path.join(ROOT, "test", "fixtures", "charged-radical")


def _trajectory(charge, spin):
    case = json.load(open(os.path.join(FIXTURE, "case.json")))
    pos = np.asarray(case["inputs"]["positions"], dtype=np.float32)[None]
    d = {"numbers": np.asarray(case["inputs"]["numbers"]), "positions": pos, "forces": np.zeros_like(pos),
         "energy": np.array([0.0]), "cell": np.zeros((1, 3, 3)), "pbc": np.zeros(3, dtype=bool),
         "meta": {"charge": charge, "spin": spin}}
    return Trajectory("anion-radical", "test", d)


def test_heldout_case_keeps_charge_and_spin():
    anion = heldout_case(FIXTURE, _trajectory(-1, 2), 0)
    assert anion["inputs"]["charge"] == -1 and anion["inputs"]["spin"] == 2
    neutral = heldout_case(FIXTURE, _trajectory(0, 1), 0)
    assert neutral["inputs"]["charge"] == 0 and neutral["inputs"]["spin"] == 1
    # the model uses charge and spin, so the stored outputs must differ between the two
    assert anion["outputs"]["energy"] != pytest.approx(neutral["outputs"]["energy"], abs=1e-6)
    # and the anion's are the fixture's own reference outputs for the same inputs (float32-rounded positions aside)
    ref = json.load(open(os.path.join(FIXTURE, "case.json")))["outputs"]
    assert anion["outputs"]["energy"] == pytest.approx(ref["energy"], abs=1e-4)
