"""active_learning.sample: model MD of a job (hours here) checkpoints every 10 saved frames; a run stopped partway
and started again gives the frames and log of a run straight through (the Langevin RNG state travels along)."""
import os

import numpy as np
import pytest
from ase.io import read

import active_learning
import model_md

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "public", "models", "water-spcfw-small")


class Stop(Exception):
    pass


def _start_file(tmp_path):
    """Two water molecules in a 12 Å periodic box, written as a teacher trajectory's last frame."""
    w = read(os.path.join(ROOT, "public", "systems", "water.xyz"))
    pos = np.concatenate([w.positions + 3.0, w.positions + [7.0, 6.5, 6.0]])
    numbers = np.concatenate([w.numbers, w.numbers])
    cell = np.eye(3) * 12.0
    active_learning.save_frames(str(tmp_path / "start.npz"), numbers, pos[None], np.zeros_like(pos)[None], [0.0],
                                cell[None], [True, True, True], {"id": "start"})


@pytest.mark.parametrize("ensemble", ["nvt", "npt"])
def test_stopped_sampling_resumes_to_the_same_frames(tmp_path, monkeypatch, ensemble):
    monkeypatch.setattr(active_learning, "WATER_DIR", str(tmp_path))
    _start_file(tmp_path)
    job = ("al_test", "start", 300.0, "train", ensemble)
    monkeypatch.setattr(active_learning, "SAMPLES_DIR", str(tmp_path / "straight"))
    _, frames_a, cells_a, log_a = active_learning.sample(job, MODEL, ps=0.1, every=5, after=10, seed=3)
    assert len(frames_a) == 40 and cells_a.shape == (40, 3, 3)
    volumes = {round(float(np.linalg.det(c)), 6) for c in cells_a}
    # NVT keeps the box; NPT's barostat (every 25 steps, so 8 attempts) must have moved it
    assert (len(volumes) == 1) if ensemble == "nvt" else (len(volumes) > 1), volumes

    monkeypatch.setattr(active_learning, "SAMPLES_DIR", str(tmp_path / "stopped"))
    baoab, calls = model_md.ModelMD.baoab, {"n": 0}

    def stopping_baoab(self, dt, gamma):
        calls["n"] += 1
        if calls["n"] == 133:  # after the checkpoint at frame 20 (step 100), before the one at frame 30
            raise Stop()
        baoab(self, dt, gamma)

    monkeypatch.setattr(model_md.ModelMD, "baoab", stopping_baoab)
    with pytest.raises(Stop):
        active_learning.sample(job, MODEL, ps=0.1, every=5, after=10, seed=3)
    partial = np.load(tmp_path / "stopped" / "al_test.partial.npz")
    assert int(partial["step"]) == 100 and len(partial["frames"]) == 20
    monkeypatch.setattr(model_md.ModelMD, "baoab", baoab)
    _, frames_b, cells_b, log_b = active_learning.sample(job, MODEL, ps=0.1, every=5, after=10, seed=3)
    np.testing.assert_array_equal(frames_a, frames_b)
    np.testing.assert_array_equal(cells_a, cells_b)
    assert log_a == log_b
