/**
 * A sparkline: one series as a small SVG polyline, for the run detail's metric list (a full chart
 * per metric would be too heavy there). The curves view draws real charts.
 */
const SVG = 'http://www.w3.org/2000/svg';

/** An SVG of `values` (NaN and infinities skipped), `width` × `height` pixels. */
export function sparkline(values: ArrayLike<number>, width = 120, height = 28): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'sparkline');
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('role', 'img');
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  if (!(hi >= lo)) return svg;
  const n = values.length;
  // At most one point per pixel column: a long series would only add invisible segments.
  const stride = Math.max(1, Math.floor(n / width));
  const points: string[] = [];
  for (let i = 0; i < n; i += stride) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    const x = n === 1 ? width / 2 : (i / (n - 1)) * (width - 2) + 1;
    const y = hi === lo ? height / 2 : height - 2 - ((v - lo) / (hi - lo)) * (height - 4);
    points.push(`${x.toFixed(1)},${y.toFixed(1)}`);
  }
  const line = document.createElementNS(SVG, 'polyline');
  line.setAttribute('points', points.join(' '));
  line.setAttribute('fill', 'none');
  line.setAttribute('stroke', 'var(--accent)');
  line.setAttribute('stroke-width', '1.5');
  svg.append(line);
  svg.dataset['points'] = String(points.length);
  return svg;
}
