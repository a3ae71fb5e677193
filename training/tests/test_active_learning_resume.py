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


def test_density_scan_frames_keep_molecules_rigid(tmp_path, monkeypatch):
    """eos jobs: each frame's box scaled to a density factor within the job's range, molecules moved rigidly with
    their oxygen (O–H vectors unchanged), a cell per frame, the same frames for the same seed."""
    monkeypatch.setattr(active_learning, "WATER_DIR", str(tmp_path))
    _start_file(tmp_path)
    job = ("eos_test", "start", 0.12, "train")
    numbers, frames, cells, log = active_learning.scale_density(job, seed=5, n_frames=30)
    start = np.load(tmp_path / "start.npz")
    x0 = start["positions"][0].astype(np.float64)
    # the stored start frame with one H a whole box away: the scaled molecule must still be whole
    x_images = x0.copy()
    x_images[1, 0] += 12.0
    active_learning.save_frames(str(tmp_path / "start.npz"), numbers, x_images[None], np.zeros_like(x0)[None], [0.0],
                                (np.eye(3) * 12.0)[None], [True, True, True], {"id": "start"})
    numbers, frames, cells, log = active_learning.scale_density(job, seed=5, n_frames=30)
    assert log is None and frames.shape == (30, 6, 3) and cells.shape == (30, 3, 3)
    density_factor = (12.0 ** 3) / np.abs(np.linalg.det(cells))
    assert density_factor.min() >= 0.88 - 1e-9 and density_factor.max() <= 1.12 + 1e-9
    assert density_factor.max() - density_factor.min() > 0.1  # the range is used
    for x, c in zip(frames, cells):
        s = c[0, 0] / 12.0
        mols, mols0 = x.reshape(-1, 3, 3), x0.reshape(-1, 3, 3)
        np.testing.assert_allclose(mols[:, 1:] - mols[:, :1], mols0[:, 1:] - mols0[:, :1], atol=1e-5)
        np.testing.assert_allclose(mols[:, 0], s * mols0[:, 0], atol=1e-5)
    np.testing.assert_array_equal(frames, active_learning.scale_density(job, seed=5, n_frames=30)[1])
