// Line plots drawn by hand on a <canvas>: axes with round-number ticks, a
// light grid, any number of series and a legend. The canvas keeps its CSS
// size and is redrawn at the device pixel ratio whenever it is resized.

const FONT = '12px system-ui, -apple-system, "Segoe UI", sans-serif';
const MARGIN = { left: 52, right: 14, top: 14, bottom: 34 };
// The legend's row above the plot area.
const LEGEND_H = 22;

// Round tick values covering [lo, hi]: steps of 1, 2 or 5 times a power of ten.
function ticks(lo, hi, count) {
  const raw = (hi - lo) / Math.max(count, 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
    out.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  }
  return out;
}

function format(v) {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(0);
  return String(Number(v.toPrecision(4)));
}

function extent(values, fallback) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (Number.isFinite(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  if (lo > hi) return fallback;
  if (lo === hi) return [lo - 1, hi + 1];
  return [lo, hi];
}

export class Plot {
  // options: { xLabel, yLabel, xRange?, yRange?, logY?, series: [...],
  //            shadeFromX? } ; each series: { label, color, xs, ys, dots? }.
  constructor(canvas, options = {}) {
    this.canvas = canvas;
    this.options = { series: [], ...options };
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  update(options) {
    Object.assign(this.options, options);
    this.draw();
  }

  draw() {
    const { canvas } = this;
    const dpr = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (!width || !height) return;
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.font = FONT;

    const { series, logY, xLabel, yLabel, shadeFromX } = this.options;
    const ty = logY ? (v) => (v > 0 ? Math.log10(v) : NaN) : (v) => v;
    const xr = this.options.xRange ?? extent(series.flatMap((s) => s.xs), [0, 1]);
    let yr = this.options.yRange ?? extent(series.flatMap((s) => s.ys.map(ty)), [0, 1]);
    if (!this.options.yRange && !logY) {
      const pad = (yr[1] - yr[0]) * 0.06;
      yr = [yr[0] - pad, yr[1] + pad];
    }

    const labelled = series.filter((s) => s.label);
    const top = MARGIN.top + (labelled.length > 1 ? LEGEND_H : 0);
    const plotW = width - MARGIN.left - MARGIN.right;
    const plotH = height - top - MARGIN.bottom;
    const px = (x) => MARGIN.left + ((x - xr[0]) / (xr[1] - xr[0])) * plotW;
    const py = (y) => top + (1 - (y - yr[0]) / (yr[1] - yr[0])) * plotH;

    // Part of the x range drawn shaded (e.g. the discarded singular values).
    if (shadeFromX !== undefined && shadeFromX < xr[1]) {
      ctx.fillStyle = 'rgba(148, 163, 184, 0.16)';
      const x0 = px(Math.max(shadeFromX, xr[0]));
      ctx.fillRect(x0, top, MARGIN.left + plotW - x0, plotH);
    }

    // Grid and tick labels.
    ctx.strokeStyle = '#e5e7eb';
    ctx.fillStyle = '#6b7280';
    ctx.lineWidth = 1;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (const t of ticks(xr[0], xr[1], Math.max(2, Math.floor(plotW / 70)))) {
      const x = Math.round(px(t)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + plotH);
      ctx.stroke();
      ctx.fillText(format(t), x, top + plotH + 5);
    }
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    const yTicks = logY
      ? ticks(Math.ceil(yr[0]), Math.floor(yr[1]), Math.floor(yr[1]) - Math.ceil(yr[0]))
      : ticks(yr[0], yr[1], Math.max(2, Math.floor(plotH / 40)));
    for (const t of yTicks) {
      const y = Math.round(py(t)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(MARGIN.left, y);
      ctx.lineTo(MARGIN.left + plotW, y);
      ctx.stroke();
      ctx.fillText(logY ? format(10 ** t) : format(t), MARGIN.left - 6, y);
    }
    ctx.strokeStyle = '#9ca3af';
    ctx.strokeRect(MARGIN.left + 0.5, top + 0.5, plotW, plotH);

    // Axis labels.
    ctx.fillStyle = '#374151';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    if (xLabel) ctx.fillText(xLabel, MARGIN.left + plotW / 2, height - 2);
    if (yLabel) {
      ctx.save();
      ctx.translate(12, top + plotH / 2);
      ctx.rotate(-Math.PI / 2);
      ctx.textBaseline = 'middle';
      ctx.fillText(yLabel, 0, 0);
      ctx.restore();
    }

    // Series, clipped to the plot area; a non-finite value breaks the line.
    ctx.save();
    ctx.beginPath();
    ctx.rect(MARGIN.left, top, plotW, plotH);
    ctx.clip();
    for (const s of series) {
      ctx.strokeStyle = s.color;
      ctx.fillStyle = s.color;
      ctx.lineWidth = 2;
      ctx.lineJoin = 'round';
      ctx.beginPath();
      let pen = false;
      s.xs.forEach((x, i) => {
        const y = ty(s.ys[i]);
        if (!Number.isFinite(y)) {
          pen = false;
          return;
        }
        if (pen) ctx.lineTo(px(x), py(y));
        else ctx.moveTo(px(x), py(y));
        pen = true;
      });
      ctx.stroke();
      if (s.dots) {
        s.xs.forEach((x, i) => {
          const y = ty(s.ys[i]);
          if (!Number.isFinite(y)) return;
          ctx.beginPath();
          ctx.arc(px(x), py(y), 3, 0, 2 * Math.PI);
          ctx.fill();
        });
      }
    }
    ctx.restore();

    // Legend in one row above the plot area, right-aligned, so that it never
    // covers the curves (when there is more than one series).
    if (labelled.length > 1) {
      ctx.textAlign = 'left';
      ctx.textBaseline = 'middle';
      const entryW = labelled.map((s) => 28 + ctx.measureText(s.label).width + 14);
      let x = MARGIN.left + plotW - entryW.reduce((a, b) => a + b, 0);
      const y = 4 + LEGEND_H / 2;
      labelled.forEach((s, i) => {
        ctx.strokeStyle = s.color;
        ctx.lineWidth = 2.5;
        ctx.beginPath();
        ctx.moveTo(x, y);
        ctx.lineTo(x + 20, y);
        ctx.stroke();
        ctx.fillStyle = '#111827';
        ctx.fillText(s.label, x + 26, y);
        x += entryW[i];
      });
    }
  }
}
