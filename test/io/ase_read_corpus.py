"""Reads structure files with ASE (ase.io.read(path, index=':')) and prints one JSON object per file.

Used by test/io/realworld.test.ts to compare our readers with ASE on the real-world corpus; one process
for all files. Usage: python3 ase_read_corpus.py FORMAT:PATH ... (FORMAT is extxyz or proteindatabank).
Numbers that JSON cannot hold (nan, inf) are written as strings.
"""
import json
import math
import sys
import warnings

import numpy as np
import ase.io

warnings.simplefilter('ignore')


def plain(value):
    """A JSON-able copy of an info or array value."""
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    return repr(value)


def frame(atoms):
    info = {}
    for key, value in atoms.info.items():
        # Lattice-like 3x3 keys are stored transposed back to the file's order (ASE reshapes them in
        # Fortran order), so they compare with the 9 numbers the file holds.
        if isinstance(value, np.ndarray) and value.shape == (3, 3) and key in ('virial', 'stress'):
            value = value.reshape(9, order='F')
        info[key] = plain(value)
    arrays = {k: plain(v) for k, v in atoms.arrays.items() if k not in ('numbers', 'positions')}
    return {
        'numbers': atoms.numbers.tolist(),
        'positions': plain(atoms.positions.ravel()),
        'cell': plain(atoms.cell.array.ravel()),
        'pbc': atoms.pbc.tolist(),
        'info': info,
        'arrays': arrays,
    }


def main():
    out = {}
    for arg in sys.argv[1:]:
        fmt, path = arg.split(':', 1)
        try:
            images = ase.io.read(path, index=':', format=fmt)
            out[path] = {'frames': [frame(a) for a in images]}
        except Exception as e:  # every failure is reported, and compared with ours
            out[path] = {'error': f'{type(e).__name__}: {e}'}
    json.dump(out, sys.stdout)


if __name__ == '__main__':
    main()
