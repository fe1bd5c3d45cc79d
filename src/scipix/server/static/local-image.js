// scipix.imaging.decode in the browser: the same refusals, error ids and messages as the server
// (format sniffed from the bytes, size read from the header and checked before any pixel is
// decoded), then the browser decodes the image and it becomes 8-bit gray as Python makes it
// (OpenCV's RGB->gray weights, transparency composited onto white).

import { InputError } from "./local-prepare.js";

const SUPPORTED = "supported: PNG, JPEG, WebP, TIFF, BMP, GIF";
const NOT_SUPPORTED = [
  ["%PDF", "a PDF document; scipix reads images only: render its pages (pdftoppm -png)"],
  ["<svg", "an SVG drawing; render it to PNG first"],
  ["<?xm", "an XML/SVG document; render it to PNG first"],
];
const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d, 0x0b, 0x0c]);

const startsWith = (data, bytes, at = 0) => bytes.every((b, i) => data[at + i] === b);
const ascii = (s) => [...s].map((c) => c.charCodeAt(0));
const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");

// Python's f"{x:.1f}" (ties to even on the exact binary value).
export function fixed1(x) {
  const t = x * 10;
  const f = Math.floor(t);
  if (t - f === 0.5 && f % 2 === 0 && Number.isInteger(x * 100)) return (f / 10).toFixed(1);
  return x.toFixed(1);
}

function looksLikeText(data) {
  let decoded;
  try {
    decoded = new TextDecoder("utf-8", { fatal: true }).decode(data.subarray(0, 512));
  } catch (_err) {
    return false;
  }
  const chars = [...decoded];
  const printable = chars.filter((c) => "\r\n\t".includes(c) || c === " " || !/[\p{C}\p{Z}]/u.test(c));
  return printable.length >= 0.95 * Math.max(chars.length, 1);
}

export function sniffFormat(data) {
  const head = data.subarray(0, 16);
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "png";
  if (startsWith(head, [0xff, 0xd8, 0xff])) return "jpeg";
  if (startsWith(head, ascii("GIF87a")) || startsWith(head, ascii("GIF89a"))) return "gif";
  if (startsWith(head, ascii("BM")) && data.length >= 26) return "bmp";
  if (startsWith(head, [0x49, 0x49, 0x2a, 0x00]) || startsWith(head, [0x4d, 0x4d, 0x00, 0x2a])) return "tiff";
  if (startsWith(head, ascii("RIFF")) && startsWith(head, ascii("WEBP"), 8)) return "webp";
  let start = 0;
  while (start < head.length && WHITESPACE.has(head[start])) start += 1;
  const lower = Array.from(head.subarray(start), (b) => (b >= 0x41 && b <= 0x5a ? b + 32 : b));
  for (const [magic, what] of NOT_SUPPORTED) {
    if (startsWith(lower, ascii(magic.toLowerCase()))) {
      throw new InputError("image_not_supported", `the file is ${what}`);
    }
  }
  if (looksLikeText(data)) {
    throw new InputError("image_decode_error", `the data is text, not an image (${SUPPORTED})`);
  }
  throw new InputError("image_decode_error",
    `unrecognized image format (first bytes ${hex(head.subarray(0, 8))}); ${SUPPORTED}`);
}

function need(data, end, fmt, size) {
  if (data.length < end) {
    throw new InputError("image_decode_error",
      `truncated ${fmt.toUpperCase()} header: unpack requires a buffer of ${size} bytes`);
  }
}

function jpegSize(data, view) {
  let pos = 2;
  while (pos + 4 <= data.length) {
    if (data[pos] !== 0xff) throw new InputError("image_decode_error", "corrupt JPEG: bad marker sequence in the header");
    const marker = data[pos + 1];
    if (marker === 0xff) { pos += 1; continue; }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) { pos += 2; continue; }
    const length = view.getUint16(pos + 2);
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      need(data, pos + 9, "jpeg", 4);
      return [view.getUint16(pos + 7), view.getUint16(pos + 5)];
    }
    pos += 2 + length;
  }
  throw new InputError("image_decode_error", "truncated JPEG: no frame header found");
}

// (width, height) from the header, or null where it is not parsed here (as header_size).
export function headerSize(data, fmt) {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const le = (at, n) => data.subarray(at, at + n).reduceRight((acc, b) => acc * 256 + b, 0);
  if (fmt === "png") { need(data, 24, fmt, 8); return [view.getUint32(16), view.getUint32(20)]; }
  if (fmt === "gif") { need(data, 10, fmt, 4); return [view.getUint16(6, true), view.getUint16(8, true)]; }
  if (fmt === "bmp") {
    need(data, 18, fmt, 4);
    if (view.getUint32(14, true) === 12) {
      need(data, 22, fmt, 4);
      return [Math.abs(view.getInt16(18, true)), Math.abs(view.getInt16(20, true))];
    }
    return [Math.abs(view.getInt32(18, true)), Math.abs(view.getInt32(22, true))];
  }
  if (fmt === "jpeg") return jpegSize(data, view);
  if (fmt === "webp") {
    const chunk = String.fromCharCode(...data.subarray(12, 16));
    if (chunk === "VP8X") return [le(24, 3) + 1, le(27, 3) + 1];
    if (chunk === "VP8L") { const bits = le(21, 4); return [(bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1]; }
    if (chunk === "VP8 ") { need(data, 30, fmt, 4); return [view.getUint16(26, true) & 0x3fff, view.getUint16(28, true) & 0x3fff]; }
    throw new InputError("image_decode_error", `corrupt WebP: unknown chunk b'${chunk}'`);
  }
  return null;
}

export function checkPixels(width, height, limits) {
  if (width <= 0 || height <= 0) {
    throw new InputError("image_decode_error", `the image header says ${width}×${height} pixels: not an image`);
  }
  if (width * height > limits.max_pixels) {
    throw new InputError("image_max_size",
      `the image is ${width}×${height} = ${fixed1((width * height) / 1e6)} Mpx, above the limit of `
      + `${fixed1(limits.max_pixels / 1e6)} Mpx (preprocessing.max_pixels); scale it down`);
  }
}

// The checks of decode_bytes before decoding; returns the format.
export function checkBytes(data, limits) {
  if (!data.length) throw new InputError("image_missing", "the image is empty (0 bytes)");
  if (data.length > limits.max_bytes) {
    throw new InputError("image_max_size", `the image is ${fixed1(data.length / 1e6)} MB, above the limit of `
      + `${fixed1(limits.max_bytes / 1e6)} MB (preprocessing.max_bytes)`);
  }
  const fmt = sniffFormat(data);
  const size = headerSize(data, fmt);
  if (size !== null) checkPixels(size[0], size[1], limits);
  return fmt;
}

// RGBA pixels -> gray as array_to_gray + composite do it.
export function rgbaToGray(rgba, count) {
  const gray = new Uint8Array(count);
  const alpha = new Uint8Array(count);
  let opaque = true;
  for (let i = 0; i < count; i += 1) {
    const o = i * 4;
    gray[i] = (rgba[o] * 4899 + rgba[o + 1] * 9617 + rgba[o + 2] * 1868 + 8192) >> 14;
    alpha[i] = rgba[o + 3];
    if (alpha[i] !== 255) opaque = false;
  }
  return opaque ? gray : composite(gray, alpha);
}

function composite(gray, alpha) {
  const visible = [];
  let hidden = 0;
  for (let i = 0; i < gray.length; i += 1) if (alpha[i] > 127) visible.push(gray[i]); else hidden += 1;
  if (visible.length && hidden) {
    const mean = visible.reduce((s, v) => s + v, 0) / visible.length;
    const std = Math.sqrt(visible.reduce((s, v) => s + (v - mean) ** 2, 0) / visible.length);
    if (mean > 160 && std < 12) return alpha.map((a) => 255 - a); // light glyphs, content in alpha
  }
  return gray.map((g, i) => Math.floor((g * alpha[i] + 255 * (255 - alpha[i]) + 127) / 255));
}

// Bytes -> {gray, width, height}, refused as the server refuses them.
export async function decodeGray(data, limits) {
  const fmt = checkBytes(data, limits);
  let bitmap;
  try {
    bitmap = await createImageBitmap(new Blob([data]), {
      imageOrientation: "from-image", premultiplyAlpha: "none", colorSpaceConversion: "none",
    });
  } catch (err) {
    throw new InputError("image_decode_error",
      `cannot decode the ${fmt.toUpperCase()} image: this browser cannot read it (${err.message})`);
  }
  const { width, height } = bitmap;
  checkPixels(width, height, limits);
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const rgba = context.getImageData(0, 0, width, height).data;
  return { gray: rgbaToGray(rgba, width * height), width, height };
}
