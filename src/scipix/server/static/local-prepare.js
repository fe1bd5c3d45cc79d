// scipix.recognition.preprocess in JavaScript: one gray formula crop -> the encoder's input,
// the same numbers as Python's prepare_image + batch_images (polarity, ink box, glyph height from
// 8-connected components, rescale, margin, ink 1.0 on 0.0, padding). Plain ES module, no DOM.

import { resize } from "./local-resize.js";

export class InputError extends Error {
  constructor(id, message) {
    super(message);
    this.id = id;
  }
}

// Python's round(): to nearest, ties to even.
function pyRound(x) {
  const r = Math.round(x);
  return (r - x === 0.5 && r % 2 !== 0) ? r - 1 : r;
}

function median(values) {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

function grayMedian(gray) {
  const hist = new Uint32Array(256);
  for (const v of gray) hist[v] += 1;
  const n = gray.length;
  const at = (rank) => {
    let seen = 0;
    for (let v = 0; v < 256; v += 1) {
      seen += hist[v];
      if (seen > rank) return v;
    }
    return 255;
  };
  return n % 2 ? at((n - 1) / 2) : (at(n / 2 - 1) + at(n / 2)) / 2;
}

function toDarkOnLight(gray) {
  if (grayMedian(gray) < 128.0) return gray.map((v) => 255 - v);
  return gray;
}

function inkBox(gray, w, h, threshold) {
  let y0 = h; let y1 = -1; let x0 = w; let x1 = -1;
  for (let y = 0; y < h; y += 1) {
    for (let x = 0; x < w; x += 1) {
      if (gray[y * w + x] < threshold) {
        if (y < y0) y0 = y;
        y1 = y;
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
      }
    }
  }
  return y1 < 0 ? null : [y0, y1 + 1, x0, x1 + 1];
}

// Connected components of the ink (8-connectivity), labelled in raster order of first pixel:
// per component [height, width, area].
function components(gray, w, h, threshold) {
  const parent = [0];
  const labels = new Int32Array(w * h);
  const find = (a) => {
    while (parent[a] !== a) { parent[a] = parent[parent[a]]; a = parent[a]; }
    return a;
  };
  const union = (a, b) => {
    const ra = find(a); const rb = find(b);
    if (ra < rb) parent[rb] = ra; else if (rb < ra) parent[ra] = rb;
  };
  for (let y = 0; y < h; y += 1) {
    for (let x = 0; x < w; x += 1) {
      if (gray[y * w + x] >= threshold) continue;
      let label = 0;
      const near = [[x - 1, y], [x - 1, y - 1], [x, y - 1], [x + 1, y - 1]];
      for (const [nx, ny] of near) {
        if (nx < 0 || ny < 0 || nx >= w) continue;
        const other = labels[ny * w + nx];
        if (!other) continue;
        if (!label) label = other; else union(label, other);
      }
      if (!label) { label = parent.length; parent.push(label); }
      labels[y * w + x] = label;
    }
  }
  const index = new Map();
  const boxes = [];
  for (let y = 0; y < h; y += 1) {
    for (let x = 0; x < w; x += 1) {
      const label = labels[y * w + x];
      if (!label) continue;
      const root = find(label);
      let i = index.get(root);
      if (i === undefined) { i = boxes.length; index.set(root, i); boxes.push([y, y, x, x, 0]); }
      const b = boxes[i];
      b[1] = Math.max(b[1], y); b[2] = Math.min(b[2], x); b[3] = Math.max(b[3], x); b[4] += 1;
    }
  }
  return boxes.map(([ya, yb, xa, xb, area]) => [yb - ya + 1, xb - xa + 1, area]);
}

export function glyphHeight(gray, w, h, threshold) {
  const kept = components(gray, w, h, threshold).filter(([ch, cw]) => ch > 2 && cw < 5 * ch);
  if (!kept.length) return null;
  const order = kept.map((_, i) => i).sort((a, b) => (kept[b][2] - kept[a][2]) || (a - b));
  const total = kept.reduce((s, c) => s + c[2], 0);
  let running = 0;
  let cut = order.length - 1;
  for (let i = 0; i < order.length; i += 1) {
    running += kept[order[i]][2];
    if (running / total >= 0.9) { cut = i; break; }
  }
  return median(order.slice(0, cut + 1).map((i) => kept[i][0]));
}

function scaleFactor(gray, w, h, spec) {
  const measured = glyphHeight(gray, w, h, spec.ink_threshold);
  if (measured === null) return 1.0;
  const factor = spec.glyph_height / measured;
  if (Math.abs(factor - 1.0) <= spec.rescale_band) return 1.0;
  return Math.min(4.0, Math.max(0.05, factor));
}

// prepare_image: {data: Float32Array (H×W), height, width}; InputError image_no_content if blank.
export function prepareImage(input, width, height, spec) {
  const gray = toDarkOnLight(input);
  const box = inkBox(gray, width, height, spec.ink_threshold);
  if (box === null) throw new InputError("image_no_content", "Image has no content");
  const [y0, y1, x0, x1] = box;
  let h = y1 - y0;
  let w = x1 - x0;
  let crop = new Uint8Array(w * h);
  for (let y = 0; y < h; y += 1) crop.set(gray.subarray((y0 + y) * width + x0, (y0 + y) * width + x1), y * w);
  let factor = scaleFactor(crop, w, h, spec);
  const innerH = spec.max_height - 2 * spec.margin;
  const innerW = spec.max_width - 2 * spec.margin;
  factor = Math.min(factor, innerH / h, innerW / w);
  if (factor !== 1.0) {
    const dw = Math.max(1, pyRound(w * factor));
    const dh = Math.max(1, pyRound(h * factor));
    crop = resize(crop, w, h, dw, dh, factor < 1.0);
    w = dw;
    h = dh;
  }
  const m = spec.margin;
  const outH = Math.max(spec.min_height, h + 2 * m);
  const outW = w + 2 * m;
  const data = new Float32Array(outH * outW);
  const top = Math.floor((outH - h) / 2);
  for (let y = 0; y < h; y += 1) {
    for (let x = 0; x < w; x += 1) data[(top + y) * outW + m + x] = (255.0 - crop[y * w + x]) / 255.0;
  }
  return { data, height: outH, width: outW };
}

// batch_images for one image: padded (top-left) to multiples of pad_height × pad_width.
export function padImage(prepared, spec) {
  const up = (v, k) => Math.ceil(v / k) * k;
  const height = up(prepared.height, spec.pad_height);
  const width = up(prepared.width, spec.pad_width);
  const data = new Float32Array(height * width);
  for (let y = 0; y < prepared.height; y += 1) {
    data.set(prepared.data.subarray(y * prepared.width, (y + 1) * prepared.width), y * width);
  }
  return { data, height, width };
}
