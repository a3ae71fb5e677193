"""model_md.save_run / load_run carry the Monte Carlo barostat's counters (attempts, acceptances and the tuning
window), so that every resumable run tunes its volume step as a run straight through would; checkpoints written
before the counters were saved still load."""
import os

import numpy as np
from ase.io import read

from evaluate import load_for_eval
from model_md import ModelMD, load_run, save_run

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "public", "models", "water-spcfw-small")


def _md(model, seed=1):
    w = read(os.path.join(ROOT, "public", "systems", "water.xyz"))
    pos = np.concatenate([w.positions + 3.0, w.positions + [7.0, 6.5, 6.0]])
    return ModelMD(model, np.concatenate([w.numbers, w.numbers]), pos, np.eye(3) * 12.0, seed, 300.0)


def test_barostat_counters_travel_with_the_state(tmp_path):
    model, _ = load_for_eval(model_dir=MODEL)
    md = _md(model)
    for _ in range(13):  # past one tuning window of 10 attempts
        md.barostat(1e-4)
    counters = (md.attempts, md.accepted, md.window_attempts, md.window_accepted)
    assert counters[0] == 13 and counters[2] == 3
    save_run(str(tmp_path / "ck.npz"), md, step=13)
    fresh = _md(model, seed=2)
    assert int(load_run(str(tmp_path / "ck.npz"), fresh)["step"]) == 13
    assert (fresh.attempts, fresh.accepted, fresh.window_attempts, fresh.window_accepted) == counters
    assert fresh.volume_step == md.volume_step

    # a checkpoint of the older format (no counters) restores the rest and leaves the counters alone
    with np.load(tmp_path / "ck.npz") as ck:
        np.savez(tmp_path / "old.npz", **{k: ck[k] for k in ck.files if k != "barostat_counters"})
    old = _md(model, seed=3)
    load_run(str(tmp_path / "old.npz"), old)
    np.testing.assert_array_equal(old.pos, md.pos)
    assert (old.attempts, old.window_attempts) == (0, 0)
