// React wrapper around AtomScene: feeds it the store's system, frames, picks and view options
// through zustand subscriptions (no React re-render per frame), and turns clicks into picks.

import { useEffect, useRef, useState } from 'react';
import { cellFrame, wrapPositions } from '../../geometry/cell';
import { notify, togglePick, useWorkbench } from '../store';
import { AtomScene } from './scene';
import { downloadBlob } from '../download';
import { attachPullTool } from '../steering/pullTool';
import { PullControls } from '../steering/PullControls';

let activeScene: AtomScene | null = null;
/** The live scene, for the test hooks and the screenshot button. */
export function getScene(): AtomScene | null {
  return activeScene;
}

export function Viewer() {
  const host = useRef<HTMLDivElement>(null);
  const view = useWorkbench((s) => s.view);
  const [info, setInfo] = useState('');

  useEffect(() => {
    const el = host.current!;
    const scene = new AtomScene(el);
    activeScene = scene;
    const displayed = () => {
      const s = useWorkbench.getState();
      const f = s.frame;
      if (!f || !s.system) return null;
      const cf = cellFrame(f.cell, s.system.pbc);
      return s.view.wrap ? wrapPositions(f.positions, cf) : f.unwrapped;
    };
    const loadSystem = () => {
      const s = useWorkbench.getState();
      if (!s.system) return;
      const pos = displayed() ?? s.system.positions;
      scene.setSystem(s.system.numbers, pos, s.frame?.cell ?? s.system.cell, s.system.pbc);
      const warn = scene.setOptions(s.view);
      if (warn) notify('warning', warn);
      scene.setPicks(s.picks);
      setInfo(`${s.system.numbers.length} atoms, ${scene.lastBondCount} bonds`);
    };
    loadSystem();
    const unsub = useWorkbench.subscribe((s, prev) => {
      if (s.system !== prev.system) loadSystem();
      else if (s.frameVersion !== prev.frameVersion || s.view.wrap !== prev.view.wrap) {
        const pos = displayed();
        if (pos) scene.setFrame(pos, s.frame!.cell);
      }
      if (s.view !== prev.view) {
        const warn = scene.setOptions(s.view);
        if (warn) notify('warning', warn);
      }
      if (s.picks !== prev.picks || s.system !== prev.system) scene.setPicks(s.picks);
    });
    // Click (not drag) picks an atom; dragging rotates the camera.
    let down: { x: number; y: number } | null = null;
    const onDown = (e: PointerEvent) => (down = { x: e.clientX, y: e.clientY });
    const onUp = (e: PointerEvent) => {
      if (!down || Math.hypot(e.clientX - down.x, e.clientY - down.y) > 4) return;
      down = null;
      const atom = scene.pick(e.clientX, e.clientY);
      if (atom !== null) togglePick(atom);
    };
    const canvas = scene.renderer.domElement;
    canvas.addEventListener('pointerdown', onDown);
    canvas.addEventListener('pointerup', onUp);
    const detachPull = attachPullTool(scene, el);
    const timer = window.setInterval(() => {
      const s = useWorkbench.getState();
      if (s.system) setInfo(`${s.system.numbers.length} atoms, ${scene.lastBondCount} bonds, update ${scene.lastUpdateMs.toFixed(1)} ms, draw ${scene.lastRenderMs.toFixed(1)} ms`);
    }, 1000);
    return () => {
      window.clearInterval(timer);
      detachPull();
      unsub();
      canvas.removeEventListener('pointerdown', onDown);
      canvas.removeEventListener('pointerup', onUp);
      scene.dispose();
      if (activeScene === scene) activeScene = null;
    };
  }, []);

  const setView = (v: Partial<typeof view>) => useWorkbench.setState((s) => ({ view: { ...s.view, ...v } }));
  const screenshot = async () => {
    const scene = getScene();
    if (!scene) return;
    downloadBlob(await scene.screenshot(), 'scaip-view.png');
  };

  return (
    <section className="viewer">
      <div className="viewer-toolbar">
        <label><input type="checkbox" checked={view.wrap} onChange={(e) => setView({ wrap: e.target.checked })} /> wrap into cell</label>
        <label><input type="checkbox" checked={view.images} onChange={(e) => setView({ images: e.target.checked })} /> periodic images</label>
        <label><input type="checkbox" checked={view.bonds} onChange={(e) => setView({ bonds: e.target.checked })} /> bonds</label>
        <button onClick={() => getScene()?.fitCamera()}>fit view</button>
        <button data-testid="screenshot" onClick={screenshot}>screenshot PNG</button>
        <PullControls />
        <span className="viewer-info" data-testid="viewer-info">{info}</span>
      </div>
      <div className="viewer-canvas" ref={host} data-testid="viewer" />
    </section>
  );
}
