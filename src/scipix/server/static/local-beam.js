// scipix.recognition.beam.beam_search in JavaScript, for one image: K beams over the ONNX
// decoder step (key/value caches), summed log-probabilities, GNMT length penalty
// ((5 + len) / 6) ** alpha, the grammar's mask per beam, the same stop rule; and the
// detokenizer (scipix.latex.normalize.detokenize) from the manifest's table.

import { START } from "./local-grammar.js";

const lengthNorm = (length, alpha) => ((5.0 + length) / 6.0) ** alpha;

// The indices of the `count` largest finite values, largest first (ties: lower index first).
function topIndices(values, count) {
  const best = [];
  for (let i = 0; i < values.length; i += 1) {
    const v = values[i];
    if (v === -Infinity || Number.isNaN(v)) continue;
    if (best.length === count && v <= values[best[count - 1]]) continue;
    let at = best.length;
    while (at > 0 && values[best[at - 1]] < v) at -= 1;
    best.splice(at, 0, i);
    if (best.length > count) best.pop();
  }
  return best;
}

// beam.done: no live beam left; or (early_stop) the n_best-th finished hypothesis outscores
// every live beam normalized at the next length; or (exact) k finished and no live beam can
// beat the best at any length up to max_tokens.
function done(finished, liveScores, length, cfg, k) {
  const live = liveScores.filter((s) => s !== -Infinity);
  if (!live.length) return true;
  const bestLive = Math.max(...live);
  if (cfg.early_stop) {
    if (finished.length < cfg.n_best) return false;
    const kept = finished.map((h) => h.score).sort((a, b) => b - a)[cfg.n_best - 1];
    return bestLive / lengthNorm(length + 1, cfg.length_penalty) < kept;
  }
  if (finished.length < k) return false;
  const best = Math.max(...finished.map((h) => h.score));
  const bound = bestLive / lengthNorm(cfg.max_tokens, cfg.length_penalty);
  return bound < best || length >= cfg.max_tokens;
}

// step(tokens: BigInt64Array(k), t, order: Int32Array|null) -> Float64Array(k × vocab) of
// log-probabilities; `order` tells the step how to reorder its caches first (null: none).
export async function beamSearch(step, cfg, grammar, vocabSize) {
  const k = Math.max(cfg.beam_width, cfg.n_best);
  let scores = new Array(k).fill(-Infinity);
  scores[0] = 0.0;
  let history = Array.from({ length: k }, () => []);
  let logps = Array.from({ length: k }, () => []);
  let states = new Array(k).fill(START);
  let tokens = new BigInt64Array(k).fill(BigInt(cfg.bos));
  let order = null;
  const finished = [];
  const unbanned = new Uint8Array(vocabSize).fill(1);
  for (const id of cfg.banned) if (id < vocabSize) unbanned[id] = 0;
  for (let t = 0; t < cfg.max_tokens; t += 1) {
    const logp = await step(tokens, t, order);
    const total = new Float64Array(k * vocabSize).fill(-Infinity);
    for (let b = 0; b < k; b += 1) {
      if (scores[b] === -Infinity) continue; // a dead row: nothing follows it
      const mask = cfg.constrained && grammar ? grammar.mask(states[b], cfg.max_tokens - t - 2) : null;
      const at = b * vocabSize;
      for (let v = 0; v < vocabSize; v += 1) {
        if (unbanned[v] && (!mask || mask[v])) total[at + v] = scores[b] + logp[at + v];
      }
    }
    const next = { order: new Int32Array(k), tokens: new BigInt64Array(k).fill(BigInt(cfg.eos)),
      scores: new Array(k).fill(-Infinity), history: Array.from({ length: k }, () => []),
      logps: Array.from({ length: k }, () => []), states: new Array(k).fill(START) };
    let live = 0;
    for (const flat of topIndices(total, 2 * k)) {
      if (live === k) break;
      const beam = Math.floor(flat / vocabSize);
      const token = flat % vocabSize;
      const pathLogps = [...logps[beam], logp[beam * vocabSize + token]];
      if (token === cfg.eos) {
        const ids = history[beam];
        const score = total[flat] / lengthNorm(ids.length + 1, cfg.length_penalty);
        finished.push({ ids, logps: pathLogps, score, closed: true });
        continue;
      }
      next.order[live] = beam;
      next.tokens[live] = BigInt(token);
      next.scores[live] = total[flat];
      next.history[live] = [...history[beam], token];
      next.logps[live] = pathLogps;
      if (grammar) next.states[live] = grammar.advance(states[beam], token);
      live += 1;
    }
    if (done(finished, next.scores, t + 1, cfg, k)) break;
    ({ order, tokens, scores, history, logps, states } = next);
  }
  if (finished.length < cfg.n_best) { // out of length: the live beams, truncated
    for (let j = 0; j < k; j += 1) {
      if (scores[j] === -Infinity) continue;
      const score = scores[j] / lengthNorm(history[j].length, cfg.length_penalty);
      finished.push({ ids: history[j], logps: logps[j], score, closed: false });
    }
  }
  return finished.sort((a, b) => b.score - a.score).slice(0, cfg.n_best);
}

// scipix.latex.normalize.detokenize over the manifest's [text, endsWord, startsWithLetter] rows.
export function detokenize(ids, table) {
  const parts = [];
  let afterWord = false;
  for (const id of ids) {
    const [text, word, alpha] = table[id];
    if (afterWord && alpha) parts.push(" ");
    parts.push(text);
    afterWord = word;
  }
  return parts.join("");
}
