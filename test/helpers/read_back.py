"""Read an exported PDB (and optionally a DCD with it as topology) with MDAnalysis, mdtraj and ASE; print JSON.

usage: read_back.py TOPOLOGY.pdb [TRAJECTORY.dcd]
Positions and cell lengths in Å, angles in degrees, times in ps; `cells` entries are null where a tool found no cell.
"""
import json
import sys
import warnings

warnings.filterwarnings("ignore")  # MDAnalysis warns about missing PDB records (resids, occupancies) we do not need

import ase.io  # noqa: E402
import MDAnalysis as mda  # noqa: E402
import mdtraj  # noqa: E402
import numpy as np  # noqa: E402


def main():
    top = sys.argv[1]
    traj = sys.argv[2] if len(sys.argv) > 2 else None
    out = {}

    u = mda.Universe(top, traj) if traj else mda.Universe(top)
    positions, cells, times = [], [], []
    for ts in u.trajectory:
        positions.append(ts.positions.astype(float).ravel().tolist())
        dims = ts.dimensions
        cells.append(None if dims is None or not np.all(dims[:3] > 0) else dims.astype(float).tolist())
        times.append(float(ts.time))
    out["mdanalysis"] = {"frames": len(u.trajectory), "atoms": len(u.atoms), "positions": positions, "cells": cells,
                         "times_ps": times, "elements": [str(e) for e in u.atoms.elements]}

    t = mdtraj.load_dcd(traj, top=top) if traj else mdtraj.load_pdb(top)
    cells = [None] * t.n_frames
    if t.unitcell_lengths is not None:
        cells = [None if not np.all(l > 0) else (l * 10).tolist() + a.tolist()
                 for l, a in zip(t.unitcell_lengths.astype(float), t.unitcell_angles.astype(float))]
    out["mdtraj"] = {"frames": t.n_frames, "atoms": t.n_atoms, "positions": (t.xyz.astype(float) * 10).reshape(t.n_frames, -1).tolist(),
                     "cells": cells, "elements": [a.element.symbol for a in t.topology.atoms]}

    if not traj:
        a = ase.io.read(top)
        out["ase"] = {"numbers": a.numbers.tolist(), "positions": a.positions.ravel().tolist(),
                      "cell": a.cell.cellpar().tolist() if a.pbc.all() else None, "pbc": a.pbc.tolist()}
    print(json.dumps(out))


main()
