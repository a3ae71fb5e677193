// The pull tool in the viewer: with the tool on, pressing on an atom and dragging pulls it (and the rest of the
// selection, when the pressed atom is picked) with a spring toward the pointer's point on the plane through the
// atom facing the camera. The engine gets the target as it moves (a uniform write on the GPU, src/md/steering.ts);
// releasing ends the pull. A line and a ball show the spring while it acts.

import * as THREE from 'three';
import { checkStiffness, type Pull } from '../../md/steering';
import { engine } from '../engine/client';
import { useWorkbench } from '../store';
import type { AtomScene } from '../viewer/scene';
import type { ActivePull, SteeringState } from './state';

/** Pointer travel (px) before a press on an atom becomes a pull; less is a click, which picks the atom. */
const DRAG_START_PX = 4;

function setSteering(p: Partial<SteeringState>): void {
  useWorkbench.setState((s) => ({ steering: { ...s.steering, ...p } }));
}

export function pullOf(a: ActivePull, stiffness: number): Pull {
  return { atoms: a.atoms, offsets: a.offsets, target: a.target, stiffness };
}

/** Ends the pull in progress, if any (the springs stop acting from the next step on). */
export function releasePull(): void {
  if (!useWorkbench.getState().steering.active) return;
  setSteering({ active: null });
  engine.pull(null);
}

export function setPullTool(on: boolean): void {
  if (!on) releasePull();
  setSteering({ tool: on });
}

/** New spring constant (eV/Å²); throws SteeringError for ≤ 0 or non-finite, and then changes nothing. */
export function setPullStiffness(k: number): void {
  checkStiffness(k);
  setSteering({ stiffness: k });
  const a = useWorkbench.getState().steering.active;
  if (a) engine.pull(pullOf(a, k));
}

/** Start or move the pull: the pressed atom's spring anchor goes to `target` (engine coordinates, Å). */
export function pullTo(pressed: number, target: [number, number, number]): void {
  const s = useWorkbench.getState();
  if (!s.frame || !s.system) return;
  let a = s.steering.active;
  if (!a || a.pressed !== pressed) {
    // The selection moves with the pressed atom when the pressed atom is part of it.
    const atoms = s.picks.includes(pressed) ? [pressed, ...s.picks.filter((p) => p !== pressed)] : [pressed];
    const x = s.frame.positions;
    const offsets = atoms.flatMap((j) => [0, 1, 2].map((k) => x[3 * j + k] - x[3 * pressed + k]));
    a = { pressed, atoms, offsets, target };
  } else {
    a = { ...a, target };
  }
  setSteering({ active: a });
  engine.pull(pullOf(a, s.steering.stiffness));
}

/** Engine position minus drawn position of atom i (the drawn one may be wrapped into the cell). */
function drawShift(scene: AtomScene, i: number): THREE.Vector3 | null {
  const f = useWorkbench.getState().frame;
  if (!f) return null;
  const x = f.positions;
  return new THREE.Vector3(x[3 * i], x[3 * i + 1], x[3 * i + 2]).sub(scene.atomPosition(i));
}

/** The spring as drawn: a line from the pressed atom to its anchor and a ball at the anchor. */
class SpringMarker {
  readonly line: THREE.Line;
  readonly ball: THREE.Mesh;
  constructor(private readonly scene: AtomScene) {
    const color = 0xff3df2;
    this.line = new THREE.Line(new THREE.BufferGeometry().setFromPoints([new THREE.Vector3(), new THREE.Vector3()]),
      new THREE.LineBasicMaterial({ color, depthTest: false }));
    this.ball = new THREE.Mesh(new THREE.SphereGeometry(0.25, 16, 12), new THREE.MeshBasicMaterial({ color, depthTest: false }));
    for (const o of [this.line, this.ball]) { o.renderOrder = 3; o.frustumCulled = false; o.visible = false; scene.addOverlay(o); }
  }

  update(): void {
    const a = useWorkbench.getState().steering.active;
    const shift = a ? drawShift(this.scene, a.pressed) : null;
    const show = !!a && !!shift;
    this.line.visible = this.ball.visible = show;
    if (show) {
      const from = this.scene.atomPosition(a.pressed);
      const to = new THREE.Vector3(...a.target).sub(shift);
      this.line.geometry.setFromPoints([from, to]);
      this.ball.position.copy(to);
    }
    this.scene.invalidate();
  }

  dispose(): void {
    for (const o of [this.line, this.ball]) { this.scene.removeOverlay(o); o.geometry.dispose(); (o.material as THREE.Material).dispose(); }
  }
}

/** Wire the tool to the viewer's canvas; returns the clean-up. */
export function attachPullTool(scene: AtomScene, host: HTMLElement): () => void {
  const marker = new SpringMarker(scene);
  let press: { atom: number; x: number; y: number; plane: THREE.Plane; shift: THREE.Vector3 } | null = null;

  // Capture phase on the host: runs before the camera controls on the canvas, so they can be held still.
  const onDown = (e: PointerEvent) => {
    if (!useWorkbench.getState().steering.tool || e.button !== 0) return;
    const atom = scene.pick(e.clientX, e.clientY);
    const shift = atom === null ? null : drawShift(scene, atom);
    if (atom === null || !shift) return;
    const normal = scene.camera.getWorldDirection(new THREE.Vector3());
    press = { atom, x: e.clientX, y: e.clientY, plane: new THREE.Plane().setFromNormalAndCoplanarPoint(normal, scene.atomPosition(atom)), shift };
    scene.controls.enabled = false;
  };
  const onMove = (e: PointerEvent) => {
    if (!press) return;
    const pulling = useWorkbench.getState().steering.active?.pressed === press.atom;
    if (!pulling && Math.hypot(e.clientX - press.x, e.clientY - press.y) <= DRAG_START_PX) return;
    const hit = scene.rayAt(e.clientX, e.clientY).intersectPlane(press.plane, new THREE.Vector3());
    if (!hit) return;
    hit.add(press.shift);
    pullTo(press.atom, [hit.x, hit.y, hit.z]);
  };
  const onUp = () => {
    if (!press) return;
    press = null;
    scene.controls.enabled = true;
    releasePull();
  };
  host.addEventListener('pointerdown', onDown, { capture: true });
  window.addEventListener('pointermove', onMove);
  window.addEventListener('pointerup', onUp);
  window.addEventListener('pointercancel', onUp);
  const unsub = useWorkbench.subscribe((s, prev) => {
    if (s.system !== prev.system && s.steering.active) setSteering({ active: null }); // the worker dropped it too
    if (s.steering.active !== prev.steering.active || s.frameVersion !== prev.frameVersion || s.view !== prev.view) marker.update();
  });
  return () => {
    unsub();
    host.removeEventListener('pointerdown', onDown, { capture: true });
    window.removeEventListener('pointermove', onMove);
    window.removeEventListener('pointerup', onUp);
    window.removeEventListener('pointercancel', onUp);
    marker.dispose();
  };
}
