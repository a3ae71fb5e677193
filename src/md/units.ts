// ASE units for the MD engine: Å, eV, fs, amu, K; pressure is bar at the interface only.
// Internally velocities are Å/fs and masses amu, so kinetic energy needs one conversion factor.

/** Boltzmann constant, eV/K (CODATA 2018). */
export const KB = 8.617333262e-5;

/** 1 amu·Å²/fs² in eV: (1.66053906660e-27 kg)(1e-20 m²)/(1e-30 s²) / 1.602176634e-19 J/eV. */
export const AMU_A2_FS2_TO_EV = (1.6605390666e-27 * 1e-20) / 1e-30 / 1.602176634e-19;

/** 1 eV/Å³ in bar: 1.602176634e-19 J / 1e-30 m³ = 1.602176634e11 Pa. */
export const EV_PER_A3_TO_BAR = 1.602176634e6;

/** amu/Å³ to g/cm³. */
export const AMU_PER_A3_TO_G_CM3 = 1.6605390666;

/** Kinetic energy (eV) of masses (amu) with velocities (Å/fs, N×3). */
export function kineticEnergy(masses: ArrayLike<number>, velocities: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < masses.length; i++) {
    const vx = velocities[3 * i], vy = velocities[3 * i + 1], vz = velocities[3 * i + 2];
    s += masses[i] * (vx * vx + vy * vy + vz * vz);
  }
  return 0.5 * s * AMU_A2_FS2_TO_EV;
}

export function temperatureFromKinetic(ekin: number, dof: number): number {
  return (2 * ekin) / (dof * KB);
}
