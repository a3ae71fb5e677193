"""Molecular dynamics with a model of training/scaip on the host (PyTorch float32): Langevin BAOAB, velocity
Verlet, and the Monte Carlo barostat of src/md (molecule-centre scaling, a uniform volume step tuned every 10
attempts towards 25–75 % acceptance). Used by md_check.py, validate_water.py and active_learning.py: long runs
here are 5–10x faster than the float64 TypeScript runtime on this CPU, and compute the same function.
Molecules are [O, H, H] triples in atom order.
"""
import json
import os

import numpy as np
import torch
from ase import units

from train import make_batch, predict

AMU_PER_A3_TO_G_CM3 = 1.66053907
MASSES = {1: 1.008, 8: 15.9994}


class ModelMD:
    """BAOAB Langevin / velocity Verlet with the model's forces, and the Monte Carlo barostat of src/md."""

    def __init__(self, model, numbers, positions, cell, seed, temperature):
        self.model = model
        # the batch takes the model's precision: a float64 model gets float64 positions, not float32 ones
        self.dtype = next(model.parameters()).dtype
        self.numbers = torch.as_tensor(numbers, dtype=torch.int64)
        self.pos = positions.astype(np.float64)
        self.cell = cell.astype(np.float64)
        self.mass = np.array([MASSES[int(z)] for z in numbers])[:, None]
        self.rng = np.random.default_rng(seed)
        self.kT = units.kB * temperature
        self.vel = self.rng.normal(size=self.pos.shape) * np.sqrt(self.kT / self.mass)
        self.vel -= (self.mass * self.vel).sum(0) / self.mass.sum()
        self.periodic = cell is not None and np.abs(cell).sum() > 0
        self.f, self.e = self.forces(self.pos, self.cell)
        self.volume_step = 0.01 * self.volume if self.periodic else 0.0
        self.attempts = self.accepted = self.window_attempts = self.window_accepted = 0

    @property
    def volume(self):
        return abs(float(np.linalg.det(self.cell)))

    def forces(self, pos, cell):
        s = dict(numbers=self.numbers, positions=pos, cell=cell if self.periodic else None,
                 pbc=np.array([self.periodic] * 3), energy=0.0, forces=np.zeros_like(pos))
        out = predict(self.model, make_batch([s], dtype=self.dtype))
        return out["forces"].detach().double().numpy(), float(out["energy"][0])

    def temperature(self):
        dof = 3 * len(self.pos) - 3
        return float((self.mass * self.vel ** 2).sum() / dof / units.kB)

    def kinetic(self):
        return float(0.5 * (self.mass * self.vel ** 2).sum())

    def baoab(self, dt, gamma):
        c1 = np.exp(-gamma * dt)
        c2 = np.sqrt((1 - c1 * c1) * self.kT / self.mass)
        self.vel += 0.5 * dt * self.f / self.mass
        self.pos += 0.5 * dt * self.vel
        self.vel = c1 * self.vel + c2 * self.rng.normal(size=self.vel.shape)
        self.pos += 0.5 * dt * self.vel
        self.f, self.e = self.forces(self.pos, self.cell)
        self.vel += 0.5 * dt * self.f / self.mass

    def verlet(self, dt):
        self.vel += 0.5 * dt * self.f / self.mass
        self.pos += dt * self.vel
        self.f, self.e = self.forces(self.pos, self.cell)
        self.vel += 0.5 * dt * self.f / self.mass

    def oh_lengths(self):
        """O–H distances of every molecule (minimum image), shape (molecules, 2)."""
        mols = self.pos.reshape(-1, 3, 3)
        d = mols[:, 1:] - mols[:, :1]
        if self.periodic:
            d -= np.round(d @ np.linalg.inv(self.cell)) @ self.cell
        return np.linalg.norm(d, axis=-1)

    def molecule_centres(self):
        mols = self.pos.reshape(-1, 3, 3)
        d = mols[:, 1:] - mols[:, :1]
        d -= np.round(d @ np.linalg.inv(self.cell)) @ self.cell
        m = self.mass.reshape(-1, 3, 1)
        return mols[:, 0] + (m[:, 1:] * d).sum(1) / m.sum(1)

    def barostat(self, pressure_eV_A3):
        v0 = self.volume
        dv = self.volume_step * (2 * self.rng.random() - 1)
        v1 = v0 + dv
        s = (v1 / v0) ** (1 / 3)
        shift = np.repeat((s - 1) * self.molecule_centres(), 3, axis=0)
        pos1, cell1 = self.pos + shift, self.cell * s
        f1, e1 = self.forces(pos1, cell1)
        n_mol = len(self.pos) // 3
        dw = e1 - self.e + pressure_eV_A3 * dv - n_mol * self.kT * np.log(v1 / v0)
        accepted = dw <= 0 or self.rng.random() < np.exp(-dw / self.kT)
        if accepted:
            self.pos, self.cell, self.f, self.e = pos1, cell1, f1, e1
        self.attempts += 1
        self.window_attempts += 1
        self.accepted += accepted
        self.window_accepted += accepted
        if self.window_attempts >= 10:
            if self.window_accepted < 0.25 * self.window_attempts:
                self.volume_step /= 1.1
            elif self.window_accepted > 0.75 * self.window_attempts:
                self.volume_step = min(self.volume_step * 1.1, 0.3 * self.volume)
            self.window_attempts = self.window_accepted = 0

    def density(self):
        return float(self.mass.sum() * AMU_PER_A3_TO_G_CM3 / self.volume)

    def state(self):
        # copies: verlet/baoab update the arrays in place, which would change a saved state
        return dict(pos=self.pos.copy(), vel=self.vel.copy(), cell=self.cell.copy(), volume_step=self.volume_step,
                    rng=json.dumps(self.rng.bit_generator.state),
                    barostat_counters=np.array([self.attempts, self.accepted, self.window_attempts, self.window_accepted]))

    def restore(self, st):
        self.pos, self.vel, self.cell = st["pos"].copy(), st["vel"].copy(), st["cell"].copy()
        self.volume_step = float(st["volume_step"])
        self.rng.bit_generator.state = json.loads(str(st["rng"]))
        # the barostat tunes its step from these counters; checkpoints written before they were saved lack them
        if "barostat_counters" in st:
            self.attempts, self.accepted, self.window_attempts, self.window_accepted = (
                int(c) for c in st["barostat_counters"])
        self.f, self.e = self.forces(self.pos, self.cell)


NVE_LOG_COLUMNS = ("t_ps", "E_tot_eV", "E_kin_eV", "T_K", "E_pot_eV", "continuity_residual_eV")


def nve_step(md, dt, t_ps):
    """One velocity-Verlet step of md; returns its NVE log row (NVE_LOG_COLUMNS). The continuity residual is the
    change of E_pot not explained by the work of the forces (trapezoid rule): jumps of the energy surface show up
    in it and not in the forces. Positions are never wrapped in ModelMD, so the displacement needs no minimum
    image."""
    pos0, f0, e0 = md.pos.copy(), md.f, md.e
    md.verlet(dt)
    jump = (md.e - e0) + 0.5 * float(((f0 + md.f) * (md.pos - pos0)).sum())
    return (t_ps, md.e + md.kinetic(), md.kinetic(), md.temperature(), md.e, jump)


STATE_KEYS = ("pos", "vel", "cell", "volume_step", "rng", "barostat_counters")


def save_run(path, md, **run):
    """A run that continues after a kill: the MD state (with its RNG) and the caller's arrays (step, log, frames…)
    in one .npz, written to a temporary file and renamed, so a kill during the write leaves the previous one."""
    tmp = path + ".tmp.npz"
    np.savez(tmp, **md.state(), **run)
    os.replace(tmp, path)


def load_run(path, md):
    """Restore the MD state of a save_run file into md; returns the caller's arrays."""
    ck = np.load(path, allow_pickle=False)
    md.restore({k: ck[k] for k in STATE_KEYS if k in ck.files})
    return {k: ck[k] for k in ck.files if k not in STATE_KEYS}
