// OpenCV's cv2.resize of an 8-bit gray image, as scipix's pre-processing calls it: INTER_AREA
// to shrink and INTER_CUBIC to enlarge, reproduced step for step (fixed-point cubic weights,
// float area weights, the same rounding) so that the browser's input matches Python's pixel
// for pixel. Plain ES module, no DOM.

const f32 = Math.fround;
const SIMD_LANES = 8; // 128-bit vectors of 16-bit lanes: OpenCV's baseline x86 build

// cvRound: to nearest, ties to even.
export function roundEven(x) {
  const r = Math.round(x);
  return (r - x === 0.5 && r % 2 !== 0) ? r - 1 : r;
}

const u8 = (x) => Math.min(255, Math.max(0, x));

function cubicCoeffs(x) {
  const A = -0.75;
  const c0 = f32(f32(f32(f32(f32(A * f32(x + 1)) - f32(5 * A)) * f32(x + 1)) + f32(8 * A)) * f32(x + 1)) - f32(4 * A);
  const c1 = f32(f32(f32(f32(f32(f32(A + 2) * x) - f32(A + 3)) * x) * x) + 1);
  const y = f32(1 - x);
  const c2 = f32(f32(f32(f32(f32(f32(A + 2) * y) - f32(A + 3)) * y) * y) + 1);
  const c3 = f32(f32(f32(1 - f32(c0)) - c1) - c2);
  return [f32(c0), c1, c2, c3];
}

function clip(x, n) {
  return x < 0 ? 0 : (x >= n ? n - 1 : x);
}

// INTER_CUBIC as OpenCV runs it with Intel IPP (opencv-python's x86 wheels): separable, in
// float, rounded to nearest at the end. (OpenCV's own fixed-point path, used without IPP, differs
// by 1 on a few per cent of the pixels.)
function cubicWeights(src, dst) {
  const scale = src / dst;
  const ofs = new Int32Array(dst);
  const coef = new Float32Array(dst * 4);
  for (let d = 0; d < dst; d += 1) {
    const f = (d + 0.5) * scale - 0.5;
    const s = Math.floor(f);
    ofs[d] = s - 1;
    coef.set(cubicCoeffs(f32(f - s)), d * 4);
  }
  return { ofs, coef };
}

function resizeCubic(src, sw, sh, dw, dh) {
  const xs = cubicWeights(sw, dw);
  const ys = cubicWeights(sh, dh);
  const rows = new Float32Array(sh * dw);
  for (let y = 0; y < sh; y += 1) {
    for (let d = 0; d < dw; d += 1) {
      let v = 0;
      for (let j = 0; j < 4; j += 1) {
        v = f32(v + f32(src[y * sw + clip(xs.ofs[d] + j, sw)] * xs.coef[d * 4 + j]));
      }
      rows[y * dw + d] = v;
    }
  }
  const out = new Uint8Array(dw * dh);
  for (let d = 0; d < dh; d += 1) {
    for (let x = 0; x < dw; x += 1) {
      let v = 0;
      for (let k = 0; k < 4; k += 1) {
        v = f32(v + f32(rows[clip(ys.ofs[d] + k, sh) * dw + x] * ys.coef[d * 4 + k]));
      }
      out[d * dw + x] = u8(roundEven(v));
    }
  }
  return out;
}

// computeResizeAreaTab: (destination index, source index, weight) triples.
function areaTable(ssize, dsize, scale) {
  const tab = [];
  for (let dx = 0; dx < dsize; dx += 1) {
    const fsx1 = dx * scale;
    const fsx2 = fsx1 + scale;
    const cell = Math.min(scale, ssize - fsx1);
    let sx2 = Math.floor(fsx2);
    let sx1 = Math.ceil(fsx1);
    sx2 = Math.min(sx2, ssize - 1);
    sx1 = Math.min(sx1, sx2);
    if (sx1 - fsx1 > 1e-3) tab.push([dx, sx1 - 1, f32((sx1 - fsx1) / cell)]);
    for (let sx = sx1; sx < sx2; sx += 1) tab.push([dx, sx, f32(1.0 / cell)]);
    if (fsx2 - sx2 > 1e-3) tab.push([dx, sx2, f32(Math.min(Math.min(fsx2 - sx2, 1), cell) / cell)]);
  }
  return tab;
}

function resizeArea(src, sw, sh, dw, dh, scaleX, scaleY) {
  const xtab = areaTable(sw, dw, scaleX);
  const ytab = areaTable(sh, dh, scaleY);
  const out = new Uint8Array(dw * dh);
  const buf = new Float32Array(dw);
  const sum = new Float32Array(dw);
  let prev = ytab.length ? ytab[0][0] : 0;
  for (const [dy, sy, beta] of ytab) {
    buf.fill(0);
    for (const [dx, sx, alpha] of xtab) buf[dx] = f32(buf[dx] + f32(src[sy * sw + sx] * alpha));
    if (dy !== prev) {
      for (let x = 0; x < dw; x += 1) {
        out[prev * dw + x] = u8(roundEven(sum[x]));
        sum[x] = f32(beta * buf[x]);
      }
      prev = dy;
    } else {
      for (let x = 0; x < dw; x += 1) sum[x] = f32(sum[x] + f32(beta * buf[x]));
    }
  }
  for (let x = 0; x < dw; x += 1) out[prev * dw + x] = u8(roundEven(sum[x]));
  return out;
}

// resizeAreaFast: whole-number scales (2×2 partly through the vector path, which rounds up).
function resizeAreaFast(src, sw, sh, dw, dh, kx, ky) {
  const out = new Uint8Array(dw * dh);
  const area = kx * ky;
  const scale = f32(1 / area);
  const full = Math.floor(sw / kx);
  const vectorEnd = kx === 2 && ky === 2 ? Math.floor(full / SIMD_LANES) * SIMD_LANES : 0;
  for (let dy = 0; dy < dh; dy += 1) {
    const sy0 = dy * ky;
    const w = sy0 + ky <= sh ? full : 0;
    for (let dx = 0; dx < dw; dx += 1) {
      const sx0 = dx * kx;
      let s = 0;
      let count = 0;
      for (let y = sy0; y < Math.min(sy0 + ky, sh); y += 1) {
        for (let x = sx0; x < Math.min(sx0 + kx, sw); x += 1) { s += src[y * sw + x]; count += 1; }
      }
      let v;
      if (dx < w) v = dx < vectorEnd ? (s + 2) >> 2 : roundEven(f32(s * scale));
      else v = count ? roundEven(f32(s / count)) : 0;
      out[dy * dw + dx] = u8(v);
    }
  }
  return out;
}

// cv2.resize(gray, (dw, dh), interpolation=INTER_AREA if shrinking else INTER_CUBIC).
export function resize(src, sw, sh, dw, dh, shrink) {
  if (dw === sw && dh === sh) return Uint8Array.from(src);
  const scaleX = 1 / (dw / sw);
  const scaleY = 1 / (dh / sh);
  if (shrink && scaleX >= 1 && scaleY >= 1) {
    const kx = Math.max(1, Math.round(scaleX));
    const ky = Math.max(1, Math.round(scaleY));
    if (Math.abs(scaleX - kx) < Number.EPSILON && Math.abs(scaleY - ky) < Number.EPSILON) {
      return resizeAreaFast(src, sw, sh, dw, dh, kx, ky);
    }
    return resizeArea(src, sw, sh, dw, dh, scaleX, scaleY);
  }
  if (shrink) return null; // INTER_AREA enlarging one side: not a case scipix reaches
  return resizeCubic(src, sw, sh, dw, dh);
}
