// The 3D view: instanced atoms colored by element, half-bonds recomputed every frame through the
// minimum image, the cell edges, optional periodic images, picking and screenshots. WebGL (three.js
// WebGLRenderer) because it is robust everywhere, including headless Chromium on SwiftShader; the MD
// engine runs in a worker, so this only has to redraw when positions or the camera change.

import * as THREE from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import { COVALENT_RADII } from '../../io/elements';
import { findBonds } from '../geometry/bonds';
import { cellFrame, sameCell, type CellFrame } from '../../geometry/cell';
import type { Pbc } from '../../io/structure';
import { displayRadius, elementColor } from './colors';

const BOND_RADIUS = 0.12;
/** Above this many drawn spheres, periodic images are refused (the user is told why). */
export const MAX_IMAGE_INSTANCES = 60000;

export interface SceneOptions {
  bonds: boolean;
  images: boolean;
}

export class AtomScene {
  readonly renderer: THREE.WebGLRenderer;
  readonly camera: THREE.PerspectiveCamera;
  readonly controls: OrbitControls;
  private readonly scene = new THREE.Scene();
  private sphereGeom: THREE.SphereGeometry;
  private sphereDetail = 0;
  private readonly bondGeom = new THREE.CylinderGeometry(1, 1, 1, 10, 1, true);
  private readonly atomMat = new THREE.MeshPhongMaterial({ shininess: 60 });
  private readonly bondMat = new THREE.MeshPhongMaterial({ shininess: 30 });
  private readonly pickMat = new THREE.MeshBasicMaterial({ color: 0xffe14d, transparent: true, opacity: 0.45, depthWrite: false });
  private atoms: THREE.InstancedMesh | null = null;
  private bonds: THREE.InstancedMesh | null = null;
  private pickMesh: THREE.InstancedMesh;
  private readonly cellLines: THREE.LineSegments;
  private readonly raycaster = new THREE.Raycaster();
  private numbers: Int32Array = new Int32Array(0);
  private radii = new Float32Array(0);
  private covalent = new Float32Array(0);
  private positions: Float64Array = new Float64Array(0);
  private cf: CellFrame | null = null;
  private cell: Float64Array | null = null;
  private pbc: Pbc = [false, false, false];
  private picks: number[] = [];
  private options: SceneOptions = { bonds: true, images: false };
  private dirty = true;
  private frameHandle = 0;
  private resizeObserver: ResizeObserver;
  /** Offsets (Å) of the drawn copies: [0,0,0] first, then periodic images when enabled. */
  private shifts: number[][] = [[0, 0, 0]];
  lastBondCount = 0;
  lastRenderMs = 0;
  /** Time of the last setFrame (bonds + instance matrices), ms. */
  lastUpdateMs = 0;

  constructor(private readonly container: HTMLElement) {
    this.renderer = new THREE.WebGLRenderer({ antialias: true, alpha: false });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
    this.renderer.setClearColor(0x1b1f27);
    container.appendChild(this.renderer.domElement);
    this.renderer.domElement.dataset.testid = 'viewer-canvas';
    this.camera = new THREE.PerspectiveCamera(40, 1, 0.1, 5000);
    this.camera.position.set(0, 0, 30);
    this.controls = new OrbitControls(this.camera, this.renderer.domElement);
    this.controls.addEventListener('change', () => this.invalidate());
    this.scene.add(new THREE.AmbientLight(0xffffff, 0.55));
    const key = new THREE.DirectionalLight(0xffffff, 1.6);
    key.position.set(0.5, 0.8, 1);
    this.camera.add(key);
    this.scene.add(this.camera);
    this.sphereGeom = new THREE.SphereGeometry(1, 20, 14);
    this.cellLines = new THREE.LineSegments(
      new THREE.BufferGeometry().setAttribute('position', new THREE.BufferAttribute(new Float32Array(72), 3)),
      new THREE.LineBasicMaterial({ color: 0x9aa4b5 }),
    );
    this.cellLines.frustumCulled = false;
    this.scene.add(this.cellLines);
    this.pickMesh = new THREE.InstancedMesh(this.sphereGeom, this.pickMat, 4);
    this.pickMesh.count = 0;
    this.pickMesh.frustumCulled = false;
    this.pickMesh.renderOrder = 2;
    this.scene.add(this.pickMesh);
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(container);
    this.resize();
    const loop = () => {
      this.frameHandle = requestAnimationFrame(loop);
      if (this.dirty) this.render();
    };
    this.frameHandle = requestAnimationFrame(loop);
  }

  /** Spheres drawn (atoms × copies when periodic images are on). */
  get sphereCount(): number {
    return this.atoms?.count ?? 0;
  }

  invalidate(): void {
    this.dirty = true;
  }

  private resize(): void {
    const w = Math.max(1, this.container.clientWidth);
    const h = Math.max(1, this.container.clientHeight);
    this.renderer.setSize(w, h, true);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    this.invalidate();
  }

  render(): void {
    const t0 = performance.now();
    this.renderer.render(this.scene, this.camera);
    this.lastRenderMs = performance.now() - t0;
    this.dirty = false;
  }

  /** New system: element styling and camera fit; positions follow through setFrame. */
  setSystem(numbers: Int32Array, positions: Float64Array, cell: Float64Array | null, pbc: Pbc): void {
    this.numbers = numbers;
    this.pbc = pbc;
    this.radii = Float32Array.from(numbers, (z) => displayRadius(z));
    this.covalent = Float32Array.from(numbers, (z) => COVALENT_RADII[z] ?? 0.7);
    this.picks = [];
    this.rebuildAtomMesh();
    this.setFrame(positions, cell);
    this.fitCamera();
  }

  setOptions(opts: SceneOptions): string | null {
    let warning: string | null = null;
    const periodic = this.pbc.some((p) => p) && this.cell !== null;
    let images = opts.images && periodic;
    if (images && this.numbers.length * 27 > MAX_IMAGE_INSTANCES) {
      images = false;
      warning = `Periodic images are off: ${this.numbers.length} atoms × 27 copies exceeds ${MAX_IMAGE_INSTANCES} spheres.`;
    }
    const changed = images !== this.options.images || opts.bonds !== this.options.bonds;
    this.options = { bonds: opts.bonds, images };
    if (changed) {
      this.rebuildAtomMesh();
      this.setFrame(this.positions, this.cell);
    }
    return warning;
  }

  private rebuildAtomMesh(): void {
    this.computeShifts();
    if (this.atoms) {
      this.scene.remove(this.atoms);
      this.atoms.dispose();
    }
    const n = this.numbers.length;
    const copies = this.shifts.length;
    // Fewer triangles per sphere as the count grows, so software rasterisers keep up at thousands of atoms.
    const drawn = n * copies;
    const detail = drawn < 2000 ? 20 : drawn < 8000 ? 12 : 8;
    if (detail !== this.sphereDetail) {
      this.sphereDetail = detail;
      this.sphereGeom.dispose();
      this.sphereGeom = new THREE.SphereGeometry(1, detail, Math.round(detail * 0.7));
      this.pickMesh.geometry = this.sphereGeom;
    }
    const mesh = new THREE.InstancedMesh(this.sphereGeom, this.atomMat, Math.max(1, n * copies));
    mesh.count = n * copies;
    const c = new THREE.Color();
    for (let k = 0; k < copies; k++)
      for (let a = 0; a < n; a++) {
        c.setHex(elementColor(this.numbers[a]), THREE.SRGBColorSpace);
        // Images are dimmed so the real cell's atoms stand out.
        if (k > 0) c.multiplyScalar(0.55);
        mesh.setColorAt(k * n + a, c);
      }
    if (mesh.instanceColor) mesh.instanceColor.needsUpdate = true;
    this.atoms = mesh;
    this.scene.add(mesh);
  }

  private computeShifts(): void {
    this.shifts = [[0, 0, 0]];
    const h = this.cell;
    if (!this.options.images || !h) return;
    const r = (d: number) => (this.pbc[d] ? [-1, 0, 1] : [0]);
    for (const i of r(0)) for (const j of r(1)) for (const k of r(2)) {
      if (!i && !j && !k) continue;
      this.shifts.push([i * h[0] + j * h[3] + k * h[6], i * h[1] + j * h[4] + k * h[7], i * h[2] + j * h[5] + k * h[8]]);
    }
  }

  /** Positions to draw (already wrapped or unwrapped by the caller) and the current cell. */
  setFrame(positions: Float64Array, cell: Float64Array | null): void {
    const t0 = performance.now();
    const cellChanged = !sameCell(cell, this.cell);
    this.positions = positions;
    this.cell = cell;
    this.cf = cellFrame(cell, this.pbc);
    if (cellChanged && this.options.images) {
      this.computeShifts();
    }
    this.updateAtoms();
    this.updateBonds();
    this.updateCell();
    this.updatePicks();
    this.invalidate();
    this.lastUpdateMs = performance.now() - t0;
  }

  private updateAtoms(): void {
    const mesh = this.atoms;
    if (!mesh) return;
    const n = this.numbers.length;
    const m = mesh.instanceMatrix.array as Float32Array;
    for (let k = 0; k < this.shifts.length; k++) {
      const [sx, sy, sz] = this.shifts[k];
      for (let a = 0; a < n; a++) {
        const o = 16 * (k * n + a);
        const r = this.radii[a];
        m[o] = r; m[o + 1] = 0; m[o + 2] = 0; m[o + 3] = 0;
        m[o + 4] = 0; m[o + 5] = r; m[o + 6] = 0; m[o + 7] = 0;
        m[o + 8] = 0; m[o + 9] = 0; m[o + 10] = r; m[o + 11] = 0;
        m[o + 12] = this.positions[3 * a] + sx;
        m[o + 13] = this.positions[3 * a + 1] + sy;
        m[o + 14] = this.positions[3 * a + 2] + sz;
        m[o + 15] = 1;
      }
    }
    mesh.instanceMatrix.needsUpdate = true;
    // Raycasting uses the bounding sphere: it must follow the atoms.
    mesh.boundingSphere = null;
    mesh.boundingBox = null;
  }

  private updateBonds(): void {
    const n = this.numbers.length;
    if (!this.options.bonds || n === 0) {
      if (this.bonds) this.bonds.count = 0;
      this.lastBondCount = 0;
      return;
    }
    const b = findBonds(this.positions, this.covalent, this.cf);
    this.lastBondCount = b.count;
    const halves = 2 * b.count * this.shifts.length;
    if (!this.bonds || this.bonds.instanceMatrix.count < halves) {
      if (this.bonds) {
        this.scene.remove(this.bonds);
        this.bonds.dispose();
      }
      this.bonds = new THREE.InstancedMesh(this.bondGeom, this.bondMat, Math.max(64, Math.ceil(halves * 1.5)));
      this.bonds.frustumCulled = false;
      this.scene.add(this.bonds);
    }
    const mesh = this.bonds;
    const m = mesh.instanceMatrix.array as Float32Array;
    const c = new THREE.Color();
    let q = 0;
    for (let s = 0; s < this.shifts.length; s++) {
      const [sx, sy, sz] = this.shifts[s];
      for (let k = 0; k < b.count; k++) {
        const i = b.pairs[2 * k], j = b.pairs[2 * k + 1];
        const dx = b.vectors[3 * k], dy = b.vectors[3 * k + 1], dz = b.vectors[3 * k + 2];
        // Two half-bonds, each anchored on its own atom: never stretched across the box.
        for (const [atom, sign] of [[i, 1], [j, -1]] as const) {
          const hx = (sign * dx) / 2, hy = (sign * dy) / 2, hz = (sign * dz) / 2;
          const x0 = this.positions[3 * atom] + sx, y0 = this.positions[3 * atom + 1] + sy, z0 = this.positions[3 * atom + 2] + sz;
          writeCylinder(m, 16 * q, x0, y0, z0, hx, hy, hz, BOND_RADIUS);
          c.setHex(elementColor(this.numbers[atom]), THREE.SRGBColorSpace);
          if (s > 0) c.multiplyScalar(0.55);
          mesh.setColorAt(q, c);
          q++;
        }
      }
    }
    mesh.count = q;
    mesh.instanceMatrix.needsUpdate = true;
    if (mesh.instanceColor) mesh.instanceColor.needsUpdate = true;
  }

  private updateCell(): void {
    const attr = this.cellLines.geometry.getAttribute('position') as THREE.BufferAttribute;
    const arr = attr.array as Float32Array;
    const h = this.cell;
    this.cellLines.visible = !!h;
    if (!h) return;
    const a = [h[0], h[1], h[2]], b = [h[3], h[4], h[5]], c = [h[6], h[7], h[8]];
    const corner = (i: number, j: number, k: number) => [0, 1, 2].map((d) => i * a[d] + j * b[d] + k * c[d]);
    const edges: [number[], number[]][] = [];
    for (const j of [0, 1]) for (const k of [0, 1]) edges.push([corner(0, j, k), corner(1, j, k)]);
    for (const i of [0, 1]) for (const k of [0, 1]) edges.push([corner(i, 0, k), corner(i, 1, k)]);
    for (const i of [0, 1]) for (const j of [0, 1]) edges.push([corner(i, j, 0), corner(i, j, 1)]);
    edges.forEach(([p, q], e) => {
      arr.set(p, 6 * e);
      arr.set(q, 6 * e + 3);
    });
    attr.needsUpdate = true;
  }

  setPicks(picks: number[]): void {
    this.picks = picks.filter((p) => p < this.numbers.length);
    this.updatePicks();
    this.invalidate();
  }

  private updatePicks(): void {
    const m = this.pickMesh.instanceMatrix.array as Float32Array;
    this.picks.forEach((a, k) => {
      const r = this.radii[a] * 1.35 + 0.08;
      const o = 16 * k;
      m.fill(0, o, o + 16);
      m[o] = r; m[o + 5] = r; m[o + 10] = r; m[o + 15] = 1;
      m[o + 12] = this.positions[3 * a];
      m[o + 13] = this.positions[3 * a + 1];
      m[o + 14] = this.positions[3 * a + 2];
    });
    this.pickMesh.count = this.picks.length;
    this.pickMesh.instanceMatrix.needsUpdate = true;
  }

  /** The atom under a client-space point, or null. Images map back to their atom. */
  pick(clientX: number, clientY: number): number | null {
    if (!this.atoms || this.numbers.length === 0) return null;
    const rect = this.renderer.domElement.getBoundingClientRect();
    const ndc = new THREE.Vector2(((clientX - rect.left) / rect.width) * 2 - 1, -((clientY - rect.top) / rect.height) * 2 + 1);
    this.raycaster.setFromCamera(ndc, this.camera);
    const hits = this.raycaster.intersectObject(this.atoms, false);
    const hit = hits.find((h) => h.instanceId !== undefined);
    return hit ? hit.instanceId! % this.numbers.length : null;
  }

  /** The camera ray through a client-space point (the pull tool intersects it with its plane). */
  rayAt(clientX: number, clientY: number): THREE.Ray {
    const rect = this.renderer.domElement.getBoundingClientRect();
    const ndc = new THREE.Vector2(((clientX - rect.left) / rect.width) * 2 - 1, -((clientY - rect.top) / rect.height) * 2 + 1);
    this.raycaster.setFromCamera(ndc, this.camera);
    return this.raycaster.ray.clone();
  }

  /** Where atom i is drawn now (Å). */
  atomPosition(i: number): THREE.Vector3 {
    return new THREE.Vector3(this.positions[3 * i], this.positions[3 * i + 1], this.positions[3 * i + 2]);
  }

  /** Extra objects drawn over the atoms (the pull tool's spring); the caller calls invalidate() after changes. */
  addOverlay(obj: THREE.Object3D): void {
    this.scene.add(obj);
  }

  removeOverlay(obj: THREE.Object3D): void {
    this.scene.remove(obj);
  }

  /** Client-space pixel where atom i's center is drawn (for tests and labels). */
  projectAtom(i: number): { x: number; y: number } {
    const v = new THREE.Vector3(this.positions[3 * i], this.positions[3 * i + 1], this.positions[3 * i + 2]).project(this.camera);
    const rect = this.renderer.domElement.getBoundingClientRect();
    return { x: rect.left + ((v.x + 1) / 2) * rect.width, y: rect.top + ((1 - v.y) / 2) * rect.height };
  }

  fitCamera(): void {
    const box = new THREE.Box3();
    const n = this.numbers.length;
    for (let a = 0; a < n; a++) box.expandByPoint(new THREE.Vector3(this.positions[3 * a], this.positions[3 * a + 1], this.positions[3 * a + 2]));
    if (this.cell) {
      const h = this.cell;
      for (const i of [0, 1]) for (const j of [0, 1]) for (const k of [0, 1])
        box.expandByPoint(new THREE.Vector3(i * h[0] + j * h[3] + k * h[6], i * h[1] + j * h[4] + k * h[7], i * h[2] + j * h[5] + k * h[8]));
    }
    if (box.isEmpty()) box.set(new THREE.Vector3(-1, -1, -1), new THREE.Vector3(1, 1, 1));
    const center = box.getCenter(new THREE.Vector3());
    const radius = Math.max(1.5, box.getSize(new THREE.Vector3()).length() / 2 + 1);
    const dist = radius / Math.sin(((this.camera.fov / 2) * Math.PI) / 180);
    this.controls.target.copy(center);
    this.camera.position.copy(center).add(new THREE.Vector3(0.35, 0.25, 1).normalize().multiplyScalar(dist));
    this.camera.near = Math.max(0.05, dist / 100);
    this.camera.far = dist * 10;
    this.camera.updateProjectionMatrix();
    this.controls.update();
    this.invalidate();
  }

  /** PNG of the current view; rendered right before reading so the drawing buffer is valid. */
  screenshot(): Promise<Blob> {
    this.render();
    return new Promise((resolve, reject) =>
      this.renderer.domElement.toBlob((b) => (b ? resolve(b) : reject(new Error('the canvas produced no PNG'))), 'image/png'),
    );
  }

  /** Same as screenshot() but as a data URL, synchronously after a render. */
  screenshotDataUrl(): string {
    this.render();
    return this.renderer.domElement.toDataURL('image/png');
  }

  dispose(): void {
    cancelAnimationFrame(this.frameHandle);
    this.resizeObserver.disconnect();
    this.controls.dispose();
    this.atoms?.dispose();
    this.bonds?.dispose();
    this.pickMesh.dispose();
    this.sphereGeom.dispose();
    this.bondGeom.dispose();
    this.renderer.dispose();
    this.renderer.domElement.remove();
  }
}

/** Column-major matrix mapping the unit cylinder (axis y, height 1, centered) onto p → p + v with radius r. */
function writeCylinder(m: Float32Array, o: number, px: number, py: number, pz: number, vx: number, vy: number, vz: number, r: number): void {
  const len = Math.hypot(vx, vy, vz) || 1e-6;
  const ux = vx / len, uy = vy / len, uz = vz / len;
  // A unit vector perpendicular to u, then w = u × e.
  let ex: number, ey: number, ez: number;
  if (Math.abs(ux) < 0.9) { ex = 0; ey = uz; ez = -uy; } else { ex = -uz; ey = 0; ez = ux; }
  const el = Math.hypot(ex, ey, ez);
  ex /= el; ey /= el; ez /= el;
  const wx = uy * ez - uz * ey, wy = uz * ex - ux * ez, wz = ux * ey - uy * ex;
  m[o] = ex * r; m[o + 1] = ey * r; m[o + 2] = ez * r; m[o + 3] = 0;
  m[o + 4] = vx; m[o + 5] = vy; m[o + 6] = vz; m[o + 7] = 0;
  m[o + 8] = wx * r; m[o + 9] = wy * r; m[o + 10] = wz * r; m[o + 11] = 0;
  m[o + 12] = px + vx / 2; m[o + 13] = py + vy / 2; m[o + 14] = pz + vz / 2; m[o + 15] = 1;
}
