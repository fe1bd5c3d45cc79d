// What the page reads or changes in an ONNX file's bytes (a protobuf ModelProto), without a
// protobuf library: the model's metadata, and the decoder's cross-attention inputs given a row
// dimension of their own.

import { InputError } from "./local-prepare.js";

function unreadable() {
  return new InputError("model_mismatch", "the model file is not an ONNX model (unreadable protobuf)");
}

// The length-delimited fields of the message in bytes[start, end): [field, start, end] each.
export function messageFields(bytes, start = 0, end = bytes.length) {
  let pos = start;
  const varint = () => {
    let value = 0; let shift = 1;
    for (;;) {
      if (pos >= end) throw unreadable();
      const b = bytes[pos]; pos += 1;
      value += (b & 0x7f) * shift; shift *= 128;
      if (b < 0x80) return value;
    }
  };
  const found = [];
  while (pos < end) {
    const key = varint(); const wire = key % 8;
    if (wire === 0) varint();
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) { const n = varint(); found.push([Math.floor(key / 8), pos, pos + n]); pos += n; }
    else throw unreadable();
  }
  if (pos !== end) throw unreadable();
  return found;
}

const text = (bytes, start, end) => new TextDecoder().decode(bytes.subarray(start, end));
const only = (fields, number) => fields.filter(([field]) => field === number);

// The ModelProto's metadata_props (field 14: key 1, value 2).
export function onnxMetadata(bytes) {
  const found = {};
  for (const [, start, end] of only(messageFields(bytes), 14)) {
    const entry = {};
    for (const [f, s, e] of messageFields(bytes, start, end)) {
      if (f === 1) entry.key = text(bytes, s, e);
      if (f === 2) entry.value = text(bytes, s, e);
    }
    if (entry.key !== undefined) found[entry.key] = entry.value;
  }
  return found;
}

// The decoder as the page runs it. Its inputs cross_k and cross_v [layers, n, heads, positions,
// dh] share the row dimension "n" with the beam's rows, so the encoder's output had to be copied
// to every beam row, and each step onnxruntime-web copies inputs into WebAssembly memory and the
// graph slices, transposes and scales them: per step three times the work for the same numbers.
// Here those two inputs get a dimension of their own ("c", renamed in place: same length, no
// other byte changes), so one row is fed and the graph's matrix products broadcast it over the
// beam rows, each row computed as before (the same log-probabilities, bit for bit). Throws when
// the file does not have those inputs as expected (another model layout: reload the page).
export function crossRowsApart(bytes) {
  const out = bytes.slice();
  const renamed = [];
  for (const [, gStart, gEnd] of only(messageFields(bytes), 7)) { // ModelProto.graph
    for (const [, iStart, iEnd] of only(messageFields(bytes, gStart, gEnd), 11)) { // input
      const info = messageFields(bytes, iStart, iEnd); // ValueInfoProto: name 1, type 2
      const name = only(info, 1).map(([, s, e]) => text(bytes, s, e))[0];
      if (name !== "cross_k" && name !== "cross_v") continue;
      const dims = only(info, 2).flatMap(([, s, e]) => only(messageFields(bytes, s, e), 1)) // tensor_type
        .flatMap(([, s, e]) => only(messageFields(bytes, s, e), 2)) // shape
        .flatMap(([, s, e]) => only(messageFields(bytes, s, e), 1)); // dim
      const param = dims.length === 5 ? only(messageFields(bytes, dims[1][1], dims[1][2]), 2)[0] : null;
      if (!param || param[2] - param[1] !== 1 || bytes[param[1]] !== 0x6e) break; // not "n"
      out[param[1]] = 0x63; // "c"
      renamed.push(name);
    }
  }
  if (renamed.length !== 2) {
    throw new InputError("model_mismatch", "the server's decoder.onnx does not have the inputs "
      + "cross_k and cross_v [layers, n, heads, positions, dh] this page expects: reload the page");
  }
  return out;
}
