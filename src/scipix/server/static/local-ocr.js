// In-browser formula recognition: the server's ONNX model run by onnxruntime-web (WebAssembly,
// one thread), with scipix's pre-processing and beam search in JavaScript. Everything is fetched
// once from this server (GET /web/local/manifest, the model files, onnxruntime-web's files);
// afterwards recognition needs no server at all. The manifest says which model version and files
// (SHA-256) to expect; the model's own metadata is read back from the ONNX file and compared, so
// a page and a server that disagree say so instead of reading wrong.

import { InputError, padImage, prepareImage } from "./local-prepare.js";
import { TokenGrammar } from "./local-grammar.js";
import { beamSearch, detokenize } from "./local-beam.js";
import { decodeGray } from "./local-image.js";
import { crossRowsApart, onnxMetadata } from "./local-onnx.js";

export const MANIFEST_FORMAT = 1; // the manifest layout this page understands
const MODEL_METADATA_FORMATS = [1]; // the ONNX metadata layouts it understands
const MANIFEST_URL = "/web/local/manifest";

function mismatch(message) {
  return new InputError("model_mismatch", message);
}

async function sha256(buffer) {
  if (!globalThis.crypto || !crypto.subtle) return null; // not a secure context: size checked only
  const digest = await crypto.subtle.digest("SHA-256", buffer);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function fetchOk(url, what) {
  let response;
  try {
    response = await fetch(url, { cache: "no-cache" });
  } catch (err) {
    throw new Error(`${what} could not be fetched from this server (${err.message})`);
  }
  if (!response.ok) {
    let detail = "";
    try { detail = (await response.json()).error || ""; } catch (_err) { /* not JSON */ }
    throw new Error(`${what}: the server answered HTTP ${response.status}${detail ? `: ${detail}` : ""}`);
  }
  return response;
}

async function modelBytes(model, name) {
  const expected = model.files[name];
  const buffer = await (await fetchOk(model.base + name, `the model file ${name}`)).arrayBuffer();
  const digest = await sha256(buffer);
  if (buffer.byteLength !== expected.bytes || (digest !== null && digest !== expected.sha256)) {
    throw mismatch(`the server's ${name} is not the file its manifest describes (model `
      + `${model.version}): the model changed on the server; reload the page`);
  }
  return new Uint8Array(buffer);
}

function checkMetadata(encoder, model) {
  const raw = onnxMetadata(encoder).scipix;
  if (raw === undefined) throw mismatch("the server's encoder.onnx has no scipix metadata");
  const meta = JSON.parse(raw);
  if (!MODEL_METADATA_FORMATS.includes(meta.format)) {
    throw mismatch(`the model's metadata format ${meta.format} is newer than this page knows `
      + `(${MODEL_METADATA_FORMATS.join(", ")}): reload the page`);
  }
  if (meta.version !== model.version || meta.vocab.length !== model.vocab.length) {
    throw mismatch(`model version mismatch: the manifest says ${model.version}, the model file `
      + `is ${meta.version}; reload the page`);
  }
}

// The server's manifest, checked: throws when this page cannot use it (and says why).
export async function fetchManifest() {
  const response = await fetch(MANIFEST_URL, { cache: "no-cache" });
  let manifest = null;
  try { manifest = await response.json(); } catch (_err) { /* said below */ }
  if (!response.ok || !manifest || manifest.format === undefined) {
    const why = manifest && (manifest.error || (manifest.error_info && manifest.error_info.message));
    throw new Error(`the server cannot hand out its model (HTTP ${response.status}${why ? `: ${why}` : ""})`);
  }
  if (manifest.format !== MANIFEST_FORMAT) {
    throw mismatch(`this page understands manifest format ${MANIFEST_FORMAT}, the server sends `
      + `${manifest.format}: the page and the server are different versions; reload the page`);
  }
  if (manifest.ort.missing.length) {
    throw new Error(`onnxruntime-web is not installed on this server (missing ${manifest.ort.missing.join(", ")}); `
      + `install it with ${manifest.ort.install}`);
  }
  return manifest;
}

export class LocalRecognizer {
  // Fetch the manifest, onnxruntime-web and the model; check they agree. Throws with a message
  // the page shows (id "model_mismatch" when page, manifest and model disagree).
  static async load(manifest, onProgress = () => {}) {
    onProgress("Loading onnxruntime-web…");
    const ort = await import(manifest.ort.base + manifest.ort.module);
    ort.env.wasm.wasmPaths = manifest.ort.base;
    ort.env.wasm.numThreads = 1; // as Python reads a crop; two were slower (portable.py)
    ort.env.wasm.proxy = false;
    onProgress("Loading the model…");
    const model = manifest.model;
    const [encoder, decoder] = await Promise.all(["encoder.onnx", "decoder.onnx"].map((n) => modelBytes(model, n)));
    checkMetadata(encoder, model);
    const options = { executionProviders: ["wasm"], graphOptimizationLevel: "all" };
    // the decoder's row count fixed, as Python's decoder for one image at the default beam
    // (recognizer.py): its shape arithmetic folds and its int8 kernels round as Python's do
    const rows = Math.max(model.beam.beam_width, model.beam.n_best);
    // and the encoder's output fed once, not copied to every row (local-onnx.js)
    const sessions = await Promise.all([
      ort.InferenceSession.create(encoder, options),
      ort.InferenceSession.create(crossRowsApart(decoder), { ...options, freeDimensionOverrides: { n: rows } }),
    ]);
    const recognizer = new LocalRecognizer(ort, manifest, sessions[0], sessions[1]);
    onProgress("Warming up…");
    await recognizer.warmUp();
    return recognizer;
  }

  constructor(ort, manifest, encoder, decoder) {
    this.ort = ort;
    this.manifest = manifest;
    this.model = manifest.model;
    this.encoder = encoder;
    this.decoder = decoder;
    const { vocab, beam } = this.model;
    this.grammar = new TokenGrammar(this.model.grammar, vocab.length, beam.eos);
    this.beam = beam;
  }

  get version() {
    return this.model.version;
  }

  // One small read (a drawn box, a few steps): the first run of each kernel is the slowest.
  async warmUp() {
    const width = 96; const height = 32;
    const gray = new Uint8Array(width * height).fill(255);
    for (let y = 8; y < 22; y += 1) for (let x = 10; x < 80; x += (y % 13 ? 9 : 1)) gray[y * width + x] = 0;
    await this.read(gray, width, height, { ...this.beam, max_tokens: 6 });
  }

  // Bytes of an image file -> {latex, tokens, confidence, ms}; InputError for a bad image.
  async recognize(bytes) {
    const started = performance.now();
    const { limits } = this.manifest;
    const { gray, width, height } = await decodeGray(bytes, limits);
    let [low, high] = [255, 0];
    for (const v of gray) { if (v < low) low = v; if (v > high) high = v; }
    if (high - low < limits.min_contrast) throw new InputError("image_no_content", limits.no_content);
    let found;
    try {
      found = await this.read(gray, width, height, this.beam);
    } catch (err) { // no pixel dark enough to be ink: said as the server says it
      if (err.id === "image_no_content") throw new InputError(err.id, limits.no_content);
      throw err;
    }
    found.timings.decode = found.started - started;
    found.ms = performance.now() - started;
    return found;
  }

  // A gray image (Uint8Array, row-major) -> the reading, as FormulaRecognizer.recognize.
  async read(gray, width, height, beam) {
    const clock = [performance.now()];
    const input = padImage(prepareImage(gray, width, height, this.model.input_spec), this.model.input_spec);
    const image = new this.ort.Tensor("float32", input.data, [1, 1, input.height, input.width]);
    clock.push(performance.now());
    const encoded = await this.encoder.run({ image });
    clock.push(performance.now());
    const step = this.stepper(encoded.cross_k, encoded.cross_v);
    const found = await beamSearch(step, beam, this.grammar, this.model.vocab.length);
    clock.push(performance.now());
    const best = found.find((h) => h.closed) || found[0]; // as decide(): the first valid one
    const ids = best.ids.filter((i) => i > 3 && i < this.model.vocab.length);
    const probs = best.logps.map(Math.exp);
    const span = (i) => Math.round((clock[i + 1] - clock[i]) * 10) / 10;
    return {
      latex: detokenize(ids, this.model.detokenize),
      tokens: ids.map((i) => this.model.vocab[i]),
      confidence: probs.length ? Math.min(...probs) : 0,
      closed: best.closed,
      started: clock[0],
      timings: { prepare: span(0), encoder: span(1), beam: span(2), steps: step.count, decoder: Math.round(step.ms) },
    };
  }

  // The decoder step over K rows, with its key/value caches (reordered by the beam's `order`);
  // the encoder's one row of cross keys and values serves all K (crossRowsApart).
  stepper(ck, cv) {
    const { Tensor } = this.ort;
    const k = Math.max(this.beam.beam_width, this.beam.n_best);
    const [layers, , heads, , dh] = ck.dims;
    let pastK = new Tensor("float32", new Float32Array(0), [layers, k, heads, 0, dh]);
    let pastV = new Tensor("float32", new Float32Array(0), [layers, k, heads, 0, dh]);
    let scratch = new Float32Array(0);
    // Rows put in the beam's order in place (the cache is the last step's output, ours alone):
    // each layer's rows copied once to a reused buffer, only the rows that move written back;
    // nothing to do when no row moves.
    const reorder = (t, order) => {
      if (order.every((from, r) => from === r)) return t;
      const data = t.data;
      const slab = k * t.dims[2] * t.dims[3] * t.dims[4];
      const block = slab / k;
      if (scratch.length < slab) scratch = new Float32Array(slab * 2);
      for (let l = 0; l < layers; l += 1) {
        const base = l * slab;
        scratch.set(data.subarray(base, base + slab));
        for (let r = 0; r < k; r += 1) {
          if (order[r] !== r) data.set(scratch.subarray(order[r] * block, (order[r] + 1) * block), base + r * block);
        }
      }
      return t;
    };
    const run = async (tokens, t, order) => {
      if (order) { pastK = reorder(pastK, order); pastV = reorder(pastV, order); }
      const started = performance.now();
      const out = await this.decoder.run({
        tokens: new Tensor("int64", tokens, [k, 1]),
        position: new Tensor("int64", BigInt64Array.of(BigInt(t)), []),
        cross_k: ck, cross_v: cv, past_k: pastK, past_v: pastV,
      });
      run.ms += performance.now() - started;
      run.count += 1;
      pastK = out.new_k;
      pastV = out.new_v;
      if (out.logp.dims[out.logp.dims.length - 1] !== this.model.vocab.length) {
        throw mismatch("the decoder's vocabulary is not the manifest's: reload the page");
      }
      return out.logp.data;
    };
    run.ms = 0;
    run.count = 0;
    return run;
  }
}
