// Equation of state of the full Lennard-Jones fluid by Johnson, Zollweg & Gubbins, Mol. Phys. 78, 591 (1993):
// the modified Benedict–Webb–Rubin fit (their eqs. 5–7 with the 32 parameters x_i and γ = 3 of Table 10).
// Reduced units: P* = Pσ³/ε, ρ* = ρσ³, T* = k_B T/ε. Used as published reference data in the barostat test.
const X = [0.8623085097507421, 2.976218765822098, -8.402230115796038, 0.1054136629203555, -0.8564583828174598,
  1.582759470107601, 0.7639421948305453, 1.753173414312048, 2.798291772190376e3, -4.8394220260857657e-2,
  0.9963265197721935, -3.698000291272493e1, 2.084012299434647e1, 8.305402124717285e1, -9.574799715203068e2,
  -1.477746229234994e2, 6.398607852471505e1, 1.603993673294834e1, 6.805916615864377e1, -2.791293578795945e3,
  -6.245128304568454, -8.116836104958410e3, 1.488735559561229e1, -1.059346754655084e4, -1.131607632802822e2,
  -8.867771540418822e3, -3.986982844450543e1, -4.689270299917261e3, 2.593535277438717e2, -2.694523589434903e3,
  -7.218487631550215e2, 1.721802063863269e2];
const GAMMA = 3;

export function jzgPressure(rho: number, t: number): number {
  const x = (i: number) => X[i - 1];
  const a = [
    x(1) * t + x(2) * Math.sqrt(t) + x(3) + x(4) / t + x(5) / t ** 2,
    x(6) * t + x(7) + x(8) / t + x(9) / t ** 2,
    x(10) * t + x(11) + x(12) / t,
    x(13),
    x(14) / t + x(15) / t ** 2,
    x(16) / t,
    x(17) / t + x(18) / t ** 2,
    x(19) / t ** 2,
  ];
  const b = [
    x(20) / t ** 2 + x(21) / t ** 3,
    x(22) / t ** 2 + x(23) / t ** 4,
    x(24) / t ** 2 + x(25) / t ** 3,
    x(26) / t ** 2 + x(27) / t ** 4,
    x(28) / t ** 2 + x(29) / t ** 3,
    x(30) / t ** 2 + x(31) / t ** 3 + x(32) / t ** 4,
  ];
  const f = Math.exp(-GAMMA * rho * rho);
  let p = rho * t;
  for (let i = 0; i < 8; i++) p += a[i] * rho ** (i + 2);
  for (let i = 0; i < 6; i++) p += f * b[i] * rho ** (2 * i + 3);
  return p;
}
