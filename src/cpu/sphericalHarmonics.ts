// Real spherical harmonics in e3nn's convention (component normalization: Σ_m Y_lm² = 2l+1 on the
// unit sphere, Y_00 = 1; e3nn's y axis is the polar axis and its m order is -l..l), with gradients.
//
// Built from the textbook real harmonics without the Condon–Shortley phase, in a frame where
// (X, Y, Z) = (z, x, y): Y_lm = N_lm · Q_lm(Z) · C_m(X, Y) (m > 0), N_l0 · Q_l0(Z) (m = 0),
// N_lm · Q_lm(Z) · S_m(X, Y) (m < 0), with Q_lm = d^m P_l/dZ^m and C_m + i S_m = (X + iY)^m.
// Evaluated on unit vectors only: polynomial forms that agree on the sphere differ off it by a
// radial gradient, which the caller's projection (I − uuᵀ)/r removes.

/** Coefficients of the Legendre polynomial P_l and its derivatives, lowest degree first. */
function legendreDerivativeCoefficients(lmax: number): number[][][] {
  // P_0 = 1, P_1 = Z, (l+1) P_{l+1} = (2l+1) Z P_l − l P_{l−1}
  const P: number[][] = [[1], [0, 1]];
  for (let l = 1; l < lmax; l++) {
    const next = new Array(l + 2).fill(0);
    for (let i = 0; i <= l; i++) next[i + 1] += ((2 * l + 1) * P[l][i]) / (l + 1);
    for (let i = 0; i < P[l - 1].length; i++) next[i] -= (l * P[l - 1][i]) / (l + 1);
    P.push(next);
  }
  const out: number[][][] = [];
  for (let l = 0; l <= lmax; l++) {
    const ders: number[][] = [P[l]];
    for (let m = 1; m <= l + 1; m++) {
      const prev = ders[m - 1];
      const d: number[] = [];
      for (let i = 1; i < prev.length; i++) d.push(prev[i] * i);
      ders.push(d.length ? d : [0]);
    }
    out.push(ders);
  }
  return out;
}

function factorial(n: number): number {
  let f = 1;
  for (let i = 2; i <= n; i++) f *= i;
  return f;
}

function evalPoly(c: number[], z: number): number {
  let s = 0;
  for (let i = c.length - 1; i >= 0; i--) s = s * z + c[i];
  return s;
}

export function shCount(lmax: number): number {
  return (lmax + 1) * (lmax + 1);
}

export class SphericalHarmonics {
  readonly lmax: number;
  readonly size: number;
  private readonly q: number[][][];
  private readonly norm: number[][];

  constructor(lmax: number) {
    this.lmax = lmax;
    this.size = shCount(lmax);
    this.q = legendreDerivativeCoefficients(lmax);
    this.norm = [];
    for (let l = 0; l <= lmax; l++) {
      const row: number[] = [];
      for (let m = 0; m <= l; m++) {
        const base = Math.sqrt(((2 * l + 1) * factorial(l - m)) / factorial(l + m));
        row.push(m === 0 ? base : base * Math.SQRT2);
      }
      this.norm.push(row);
    }
  }

  /**
   * Y(u) for a unit vector u = (x, y, z) into out[offset..offset+size); the zero vector gives
   * (1, 0, …, 0) as e3nn's homogeneous polynomials do. With `grad` (size×3, row-major) also
   * dY/du of the polynomial form.
   */
  evaluate(x: number, y: number, z: number, out: Float64Array, offset = 0, grad?: Float64Array): void {
    const { lmax } = this;
    if (x === 0 && y === 0 && z === 0) {
      out.fill(0, offset, offset + this.size);
      out[offset] = 1;
      if (grad) grad.fill(0, 0, this.size * 3);
      return;
    }
    // e3nn frame → textbook frame with polar axis Z.
    const X = z, Y = x, Z = y;
    // C_m + i S_m = (X + iY)^m
    const C = new Float64Array(lmax + 1);
    const S = new Float64Array(lmax + 1);
    C[0] = 1; S[0] = 0;
    for (let m = 1; m <= lmax; m++) {
      C[m] = C[m - 1] * X - S[m - 1] * Y;
      S[m] = C[m - 1] * Y + S[m - 1] * X;
    }
    for (let l = 0; l <= lmax; l++) {
      const base = offset + l * l + l; // index of m = 0
      const gbase = (l * l + l) * 3;
      for (let m = 0; m <= l; m++) {
        const N = this.norm[l][m];
        const Q = evalPoly(this.q[l][m], Z);
        const dQ = evalPoly(this.q[l][m + 1], Z);
        if (m === 0) {
          out[base] = N * Q;
          if (grad) {
            // d/dX, d/dY = 0; d/dZ = N Q'
            setGrad(grad, gbase, 0, 0, N * dQ);
          }
          continue;
        }
        out[base + m] = N * Q * C[m];
        out[base - m] = N * Q * S[m];
        if (grad) {
          // ∂C_m/∂X = m C_{m-1}, ∂C_m/∂Y = −m S_{m-1}, ∂S_m/∂X = m S_{m-1}, ∂S_m/∂Y = m C_{m-1}
          setGrad(grad, gbase + 3 * m, N * Q * m * C[m - 1], -N * Q * m * S[m - 1], N * dQ * C[m]);
          setGrad(grad, gbase - 3 * m, N * Q * m * S[m - 1], N * Q * m * C[m - 1], N * dQ * S[m]);
        }
      }
    }
  }
}

/** Store a gradient given in the textbook frame (X, Y, Z) = (z, x, y) as (∂x, ∂y, ∂z). */
function setGrad(g: Float64Array, o: number, dX: number, dY: number, dZ: number): void {
  g[o] = dY;
  g[o + 1] = dZ;
  g[o + 2] = dX;
}
