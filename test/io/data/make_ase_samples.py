"""Writes the ASE-made sample files the structure-reader tests read (run with /usr/bin/python3, ASE 3.22).

Committed output: ase_water_pbc.extxyz, ase_methanol_traj.extxyz, ase_methane_2frames.xyz.
"""
import numpy as np
import ase.io
from ase.build import molecule
from ase.calculators.singlepoint import SinglePointCalculator

# One periodic water with momenta, energy, forces, stress, charge/spin and a quoted string key.
water = molecule("H2O")
water.cell = [[5.0, 0.0, 0.0], [0.3, 5.5, 0.0], [0.0, 0.2, 6.0]]
water.pbc = True
water.center()
water.info["charge"] = 0
water.info["spin"] = 1
water.info["comment_text"] = "ASE sample with spaces"
water.set_velocities(np.full((3, 3), 0.01))
water.calc = SinglePointCalculator(
    water, energy=-14.2, forces=np.arange(9.0).reshape(3, 3) * 0.1, stress=np.arange(6.0) * 0.001
)
ase.io.write("ase_water_pbc.extxyz", water)

# Three rattled methanol frames with energies and forces (a short trajectory).
frames = []
for i in range(3):
    m = molecule("CH3OH")
    m.rattle(0.05, seed=i)
    m.calc = SinglePointCalculator(
        m, energy=-100.0 - 0.5 * i, forces=np.round(np.random.RandomState(i).randn(len(m), 3), 3)
    )
    frames.append(m)
ase.io.write("ase_methanol_traj.extxyz", frames)

# Plain XYZ, two frames (empty comment lines).
ch4 = molecule("CH4")
ch4b = ch4.copy()
ch4b.positions[0] += [0.1, 0.0, 0.0]
ase.io.write("ase_methane_2frames.xyz", [ch4, ch4b], format="xyz")
