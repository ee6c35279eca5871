// The scale chart, written by hand (no chart dependency): two log-scale line
// panels, ms per run and process spawns per run, against pod size, one line
// per method. Log scales because the sizes are geometric and the methods
// differ by orders of magnitude in spawns.
import type { BenchResults, KeptScaleEntry } from './results.js';
import { METHODS, METHOD_LABELS, type Method } from './scale.js';

const COLORS: Readonly<Record<Method, string>> = { inProcess: '#1f6fb4', netlink: '#9467bd', perCommand: '#d62728', batchFloor: '#2a9d3a', pyroute2: '#ff7f0e' };

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const f = (n: number): string => (Math.round(n * 10) / 10).toString();

const marker = (m: Method, x: number, y: number): string => {
  const c = COLORS[m];
  if (m === 'inProcess') return `<circle cx="${f(x)}" cy="${f(y)}" r="4" fill="${c}"/>`;
  if (m === 'perCommand') return `<rect x="${f(x - 4)}" y="${f(y - 4)}" width="8" height="8" fill="${c}"/>`;
  return `<path d="M${f(x)} ${f(y - 5)} L${f(x + 5)} ${f(y + 4)} L${f(x - 5)} ${f(y + 4)} Z" fill="${c}"/>`;
};

const label = (v: number): string => (v >= 1000 ? `${(v / 1000).toFixed(v >= 10000 || v % 1000 === 0 ? 0 : 1)}k` : v >= 10 || Number.isInteger(v) ? v.toFixed(0) : v.toFixed(1));

interface Panel {
  readonly title: string;
  readonly yTitle: string;
  /** NaN: no figure (a method a kept run did not measure): no point. */
  readonly value: (e: KeptScaleEntry, m: Method) => number;
}

const panel = (p: Panel, scale: readonly KeptScaleEntry[], left: number, top: number, w: number, h: number): string => {
  const values = scale.flatMap((e) => METHODS.map((m) => p.value(e, m))).filter((v) => Number.isFinite(v) && v > 0);
  const lo = Math.floor(Math.log10(Math.min(...values)));
  // Headroom above the largest value so its label stays inside the panel.
  const hi = Math.max(Math.ceil(Math.log10(Math.max(...values) * 1.6)), lo + 1);
  const yOf = (v: number): number => top + h - ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * h;
  const pad = 28;
  const step = scale.length > 1 ? (w - 2 * pad) / (scale.length - 1) : 0;
  const xOf = (i: number): number => (scale.length > 1 ? left + pad + i * step : left + w / 2);
  const out: string[] = [];
  out.push(`<text x="${f(left + w / 2)}" y="${f(top - 14)}" text-anchor="middle" font-size="14" font-weight="bold">${esc(p.title)}</text>`);
  for (let k = lo; k <= hi; k++) {
    for (const mult of [1, 2, 5]) {
      const v = mult * 10 ** k;
      if (v > 10 ** hi) continue;
      const y = yOf(v);
      out.push(`<line x1="${f(left)}" y1="${f(y)}" x2="${f(left + w)}" y2="${f(y)}" stroke="${mult === 1 ? '#bbb' : '#e6e6e6'}" stroke-width="1"/>`);
      if (mult === 1 || hi - lo <= 2) out.push(`<text x="${f(left - 6)}" y="${f(y + 4)}" text-anchor="end" font-size="11" fill="#444">${label(v)}</text>`);
    }
  }
  out.push(`<line x1="${f(left)}" y1="${f(top)}" x2="${f(left)}" y2="${f(top + h)}" stroke="#333"/>`);
  out.push(`<line x1="${f(left)}" y1="${f(top + h)}" x2="${f(left + w)}" y2="${f(top + h)}" stroke="#333"/>`);
  scale.forEach((e, i) => out.push(`<text x="${f(xOf(i))}" y="${f(top + h + 18)}" text-anchor="middle" font-size="12">${e.links}</text>`));
  out.push(`<text x="${f(left + w / 2)}" y="${f(top + h + 38)}" text-anchor="middle" font-size="12" fill="#333">links in the pod netns</text>`);
  out.push(`<text transform="translate(${f(left - 48)} ${f(top + h / 2)}) rotate(-90)" text-anchor="middle" font-size="12" fill="#333">${esc(p.yTitle)}</text>`);
  for (const [mi, m] of METHODS.entries()) {
    const pts = scale.map((e, i) => ({ x: xOf(i), v: p.value(e, m) })).filter((q) => Number.isFinite(q.v) && q.v > 0);
    if (pts.length > 1) out.push(`<polyline fill="none" stroke="${COLORS[m]}" stroke-width="2" points="${pts.map((q) => `${f(q.x)},${f(yOf(q.v))}`).join(' ')}"/>`);
    for (const [pi, q] of pts.entries()) {
      out.push(marker(m, q.x, yOf(q.v)));
      // a above-left, b above-right, c below: a and c are often close and b
      // far above, so no two labels of one size overlap; the last point's
      // labels go left of it, inside the panel.
      const dy = [-9, -9, 16][mi] ?? -9;
      const left = m === 'inProcess' || (pi === pts.length - 1 && pts.length > 1);
      out.push(`<text x="${f(left ? q.x - 7 : q.x + 7)}" y="${f(yOf(q.v) + dy)}" text-anchor="${left ? 'end' : 'start'}" font-size="10" fill="${COLORS[m]}">${label(q.v)}</text>`);
    }
  }
  return out.join('\n');
};

export const renderScaleSvg = (scale: readonly KeptScaleEntry[], subtitle: string, queues: number): string => {
  const W = 980;
  const H = 470;
  const panels: Panel[] = [
    { title: 'ms per run (median)', yTitle: 'milliseconds (log scale)', value: (e, m) => e.phasesMs[m]?.total ?? NaN },
    { title: 'process spawns per run', yTitle: 'processes (log scale)', value: (e, m) => e.spawns[m]?.total ?? NaN },
  ];
  // Only the methods the run measured: a kept older run has no (a2)/(d).
  const legend = METHODS.filter((m) => scale.some((e) => e.phasesMs[m] !== undefined)).map((m, i) => {
    const x = 90 + i * 290;
    return `${marker(m, x, 438)}<line x1="${x - 14}" y1="438" x2="${x + 14}" y2="438" stroke="${COLORS[m]}" stroke-width="2"/><text x="${x + 22}" y="442" font-size="12">${esc(METHOD_LABELS[m])}</text>`;
  }).join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">tapwire: scan + attach-all (tcfilter, ${queues} queues) + fds + detach-all</text>`,
    `<text x="${W / 2}" y="42" text-anchor="middle" font-size="11" fill="#555">${esc(subtitle)}</text>`,
    panel(panels[0] as Panel, scale, 90, 80, 370, 280),
    panel(panels[1] as Panel, scale, 580, 80, 370, 280),
    legend,
    '</svg>',
    '',
  ].join('\n');
};

/** The chart of a whole run, subtitled with where and how it was measured. */
export const renderResultsSvg = (r: BenchResults): string =>
  renderScaleSvg(r.scale, `${r.env.date.slice(0, 10)}, kernel ${r.env.kernel}, ${r.env.cpuCount} CPUs, node ${r.env.node}; medians of ${r.options.runs} run(s)`, r.options.queues);
