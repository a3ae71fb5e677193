import numpy as np
from ase import Atoms, units
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution
from ase.md.verlet import VelocityVerlet

import make_fixtures
from conftest import run
from scaip import save_model
from scaip.calculator import ScaipCalculator


def atoms_of(structure):
    atoms = Atoms(numbers=structure["numbers"], positions=structure["positions"], pbc=structure["pbc"],
                  cell=structure["cell"] if structure["cell"] is not None else None)
    atoms.info["charge"] = structure["charge"]
    atoms.info["spin"] = structure["spin"]
    return atoms


def test_calculator_matches_model_and_runs_md(tmp_path, small_model):
    model = small_model(seed=41, use_lae=True)
    save_model(model, tmp_path / "m")
    s = make_fixtures.molecule(42, 3, charge=1, spin=2)
    atoms = atoms_of(s)
    atoms.calc = ScaipCalculator(model_path=tmp_path / "m")
    ref = run(model, [s])
    assert abs(atoms.get_potential_energy() - float(ref["energy"][0])) < 1e-12
    assert np.abs(atoms.get_forces() - ref["forces"].numpy()).max() < 1e-12

    MaxwellBoltzmannDistribution(atoms, temperature_K=50, rng=np.random.RandomState(0))
    e0 = atoms.get_total_energy()
    dyn = VelocityVerlet(atoms, timestep=0.05 * units.fs)
    energies = []
    dyn.attach(lambda: energies.append(atoms.get_total_energy()), interval=1)
    dyn.run(8)
    assert len(energies) == 9
    assert max(abs(e - e0) for e in energies) < 1e-3  # NVE with a small step conserves energy
    assert np.linalg.norm(atoms.positions - np.array(s["positions"])) > 0


def test_calculator_stress_is_ase_convention(small_model):
    model = small_model(seed=43, use_erope=True)
    s = make_fixtures.periodic(44, [[6.6, 0.0, 0.0], [0.8, 6.4, 0.0], [0.0, -0.5, 6.2]], 4)
    atoms = atoms_of(s)
    atoms.calc = ScaipCalculator(model=model)
    stress = atoms.get_stress()
    numeric = atoms.calc.calculate_numerical_stress(atoms, d=1e-5)
    assert np.abs(stress - numeric).max() < 1e-7 * np.abs(stress).max()
