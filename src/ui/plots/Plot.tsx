// A uPlot chart bound to the store: redrawn (at most a few times a second) when `version` changes,
// never re-created per update, sized to its container.

import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface PlotSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: { label: string; stroke: string; dash?: number[]; width?: number }[];
  /** x as a time axis in ps is numeric, not a date. */
  xNumeric?: boolean;
}

interface Props {
  spec: PlotSpec;
  data: () => uPlot.AlignedData;
  version: number;
  testId: string;
  height?: number;
}

const REDRAW_MS = 250;

export function Plot({ spec, data, version, testId, height = 170 }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const last = useRef(0);
  const pending = useRef<number | null>(null);

  useEffect(() => {
    const el = host.current!;
    const width = Math.max(200, el.clientWidth);
    const opts: uPlot.Options = {
      title: spec.title,
      width,
      height,
      scales: { x: { time: false } },
      axes: [
        { label: spec.xLabel, stroke: '#c7ccd6', grid: { stroke: '#2c323d' }, ticks: { stroke: '#2c323d' } },
        { label: spec.yLabel, stroke: '#c7ccd6', grid: { stroke: '#2c323d' }, ticks: { stroke: '#2c323d' }, size: 60 },
      ],
      series: [{ label: spec.xLabel }, ...spec.series.map((s) => ({ label: s.label, stroke: s.stroke, dash: s.dash, width: s.width ?? 1.5, points: { show: false } }))],
      legend: { live: false },
      cursor: { drag: { x: true, y: false } },
    };
    const u = new uPlot(opts, data(), el);
    plot.current = u;
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
    // The spec is fixed per chart; data() is read on every version change.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    const redraw = () => {
      pending.current = null;
      last.current = performance.now();
      plot.current?.setData(data());
    };
    const wait = REDRAW_MS - (performance.now() - last.current);
    if (wait <= 0) redraw();
    else if (pending.current === null) pending.current = window.setTimeout(redraw, wait);
  }, [version, data]);

  useEffect(() => () => { if (pending.current !== null) clearTimeout(pending.current); }, []);

  const points = data()[0]?.length ?? 0;
  return <div className="plot" ref={host} data-testid={testId} data-points={points} />;
}
