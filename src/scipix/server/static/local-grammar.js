// scipix.recognition.grammar in JavaScript: a LaTeX state per beam row and the tokens it allows
// next (the beam search masks the rest). The facts about each parser piece (kind, known command,
// delimiter, argument specs...) come from the server's manifest, computed by the Python code the
// recognizer uses, so only the state machine is written here. Frames are arrays:
// [LIST, ctx, env, bits], [ARGS, letters], [TEXT], [RAW, depth], [RAWOPT, depth].

const LIST = 0; const ARGS = 1; const TEXT = 2; const RAW = 3; const RAWOPT = 4;
const TOP = 0; const BRACE = 1; const CELL = 2; const DELIM = 3; const OPT = 4; const STACK = 5;
const SUP = 1; const SUB = 2; const PRIMES = 4; const PRIME_RUN = 8; const HAS_INFIX = 16;
const SCRIPTS = { "^": SUP, "\\sp": SUP, _: SUB, "\\sb": SUB };
const SPECIAL = new Set("{}^_'&#$]\\%");
const STRUCTURAL = new Set(["begin", "end", "left", "right", "middle"]);
const OPTIONAL = new Set("oOs");
const LETTER_COST = { m: 1, t: 1, r: 1, D: 1, "^": 1, S: 2, o: 0, O: 0, s: 0 };
const BRACE_LIST = [LIST, BRACE, "", 0];
export const START = [[LIST, TOP, "", 0]];

const isOptional = (letters) => [...letters].every((l) => OPTIONAL.has(l));
const push = (state, ...frames) => [...state, ...frames];

function argument(rest, letter, p) {
  if (letter === "D") return p.delim ? rest : null;
  if (p.text === "{") {
    if (letter === "S") return push(rest, [LIST, STACK, "", 0]);
    const opened = { m: BRACE_LIST, "^": BRACE_LIST, t: [TEXT], r: [RAW, 0] }[letter];
    return opened ? push(rest, opened) : null;
  }
  return "mtr^".includes(letter) && p.plain ? rest : null;
}

function structure(below, fresh, ctx, env, p) {
  const kind = p.kind;
  if (kind === "begin") {
    const spec = p.envSpec;
    if (spec === null || spec === undefined || spec.includes("d")) return null;
    const opened = push(fresh, [LIST, CELL, p.env, 0]);
    return spec ? push(opened, [ARGS, spec]) : opened;
  }
  if (kind === "end") return ctx === CELL && p.env === env ? below : null;
  if (kind === "left") return p.sideDelim ? push(fresh, [LIST, DELIM, "", 0]) : null;
  if (kind === "right") return ctx === DELIM && p.sideDelim ? below : null;
  if (kind === "middle") return ctx === DELIM && p.sideDelim ? fresh : null;
  const t = p.text;
  if (t === "\\substack") return push(fresh, [ARGS, "S"]);
  if (t[0] !== "\\" || t === "\\" || !p.known) return null;
  const spec = p.arg;
  if (spec === null || spec === undefined) return fresh;
  return spec.includes("d") ? null : push(fresh, [ARGS, spec]);
}

function inList(state, top, p) {
  const [, ctx, env, bits] = top;
  const t = p.text;
  const below = state.slice(0, -1);
  const fresh = push(below, [LIST, ctx, env, bits & HAS_INFIX]);
  if (t.length === 1 && !SPECIAL.has(t)) return p.ascii ? fresh : null;
  if (t === "{") return push(fresh, BRACE_LIST);
  if (t === "}") return ctx === BRACE || ctx === STACK ? below : null;
  const script = SCRIPTS[t];
  if (script !== undefined || t === "'") {
    const ok = script === SUB ? !(bits & SUB) : Boolean(bits & PRIME_RUN) || !(bits & (SUP | PRIMES));
    if (!ok) return null;
    if (script === undefined) return push(below, [LIST, ctx, env, bits | PRIMES | PRIME_RUN]);
    return push(below, [LIST, ctx, env, (bits | script) & ~PRIME_RUN], [ARGS, "^"]);
  }
  if (t === "]") return ctx === OPT ? below : fresh;
  if (t === "&" || t === "\\\\") return ctx === CELL || ctx === STACK ? push(below, [LIST, ctx, env, 0]) : null;
  if (p.infix) {
    if (p.refused || bits & HAS_INFIX) return null;
    return push(below, [LIST, ctx, env, HAS_INFIX]);
  }
  if (p.limits) return push(below, [LIST, ctx, env, bits & ~PRIME_RUN]);
  return structure(below, fresh, ctx, env, p);
}

function inText(state, p) {
  const t = p.text;
  if (t === "}") return state.slice(0, -1);
  if (t === "{") return push(state, [TEXT]);
  if (["$", "&", "#", "%", "\\"].includes(t)) return null;
  if (t[0] !== "\\" || !p.alpha2) return state;
  if (STRUCTURAL.has(p.kind) || !p.known) return null;
  const spec = p.textArg;
  if (spec === null || spec === undefined) return p.arg !== null && p.arg !== undefined ? null : state;
  if (spec.includes("d") || p.refused) return null;
  return push(state, [ARGS, spec]);
}

function inRaw(state, top, p) {
  const [kind, depth] = top;
  const t = p.text;
  if (t === "{") return push(state.slice(0, -1), [kind, depth + 1]);
  if (t === "}") {
    if (depth) return push(state.slice(0, -1), [kind, depth - 1]);
    return kind === RAW ? state.slice(0, -1) : null;
  }
  if (t === "]" && kind === RAWOPT && !depth) return state.slice(0, -1);
  if (["%", "\\", "$", "#"].includes(t) || STRUCTURAL.has(p.kind)) return null;
  return t[0] !== "\\" || p.known ? state : null;
}

// grammar.feed: the state after one parser piece, null when the parser would refuse it here.
export function feed(state, p) {
  while (state.length) {
    const top = state[state.length - 1];
    const kind = top[0];
    if (kind === LIST) return inList(state, top, p);
    if (kind === TEXT) return inText(state, p);
    if (kind !== ARGS) return inRaw(state, top, p);
    const letters = top[1];
    const letter = letters[0];
    const rest = letters.length > 1 ? push(state.slice(0, -1), [ARGS, letters.slice(1)]) : state.slice(0, -1);
    if (!OPTIONAL.has(letter)) return argument(rest, letter, p);
    if (p.text !== (letter === "s" ? "*" : "[")) { state = rest; continue; }
    if (letter === "s") return rest;
    return letter === "o" ? push(rest, [LIST, OPT, "", 0]) : push(rest, [RAWOPT, 0]);
  }
  return null;
}

export function closingCost(state) {
  let total = 0;
  for (const frame of state) {
    const kind = frame[0];
    if (kind === LIST) total += frame[1] !== TOP ? 1 : 0;
    else if (kind === ARGS) for (const l of frame[1]) total += LETTER_COST[l];
    else if (kind === TEXT) total += 1;
    else total += frame[1] + 1;
  }
  return total;
}

function signature(state) {
  let i = state.length - 1;
  while (i > 0 && state[i][0] === ARGS && isOptional(state[i][1])) i -= 1;
  const sig = state.slice(i);
  if (sig.length && (sig[0][0] === RAW || sig[0][0] === RAWOPT)) sig[0] = [sig[0][0], Math.min(sig[0][1], 1)];
  return sig;
}

export class TokenGrammar {
  constructor(tables, size, eos) {
    this.pieces = tables.pieces;
    this.tokens = tables.tokens; // per vocabulary id: piece indices, or null (never allowed)
    this.size = size;
    this.eos = eos;
    this.movesBySig = new Map();
    this.masksByState = new Map();
  }

  advance(state, id) {
    const pieces = this.tokens[id];
    if (!pieces) return [];
    let current = state;
    for (const i of pieces) {
      current = current && current.length ? feed(current, this.pieces[i]) : null;
    }
    return current && current.length ? current : [];
  }

  moves(sig) {
    const key = JSON.stringify(sig);
    let found = this.movesBySig.get(key);
    if (found) return found;
    const allowed = new Uint8Array(this.size);
    const delta = new Int16Array(this.size);
    const deep = [];
    const base = closingCost(sig);
    let largest = 0;
    this.tokens.forEach((pieces, id) => {
      if (!pieces || id === this.eos) return;
      let after = sig;
      pieces.forEach((pi, n) => {
        after = after && after.length ? feed(after, this.pieces[pi]) : null;
        if (after && after.length === 0 && n < pieces.length - 1) deep.push(id);
      });
      if (after !== null) {
        allowed[id] = 1;
        delta[id] = closingCost(after) - base;
        largest = Math.max(largest, delta[id]);
      }
    });
    found = { allowed, delta, largest, deep };
    this.movesBySig.set(key, found);
    return found;
  }

  // grammar.mask: 1 for each token allowed after `state` with `room` tokens left before <eos>.
  mask(state, room) {
    if (!state.length) return new Uint8Array(this.size);
    const key = JSON.stringify(state);
    let row = this.masksByState.get(key);
    if (!row) {
      if (this.masksByState.size >= 8192) this.masksByState.clear();
      row = { cost: closingCost(state), moves: this.moves(signature(state)), bySlack: new Map() };
      this.masksByState.set(key, row);
    }
    const slack = Math.min(room - row.cost, row.moves.largest);
    let found = row.bySlack.get(slack);
    if (found) return found;
    const { allowed, delta, deep } = row.moves;
    found = new Uint8Array(this.size);
    for (let i = 0; i < this.size; i += 1) found[i] = allowed[i] && delta[i] <= slack ? 1 : 0;
    found[this.eos] = row.cost === 0 ? 1 : 0;
    for (const i of deep) {
      const after = this.advance(state, i);
      found[i] = after.length && closingCost(after) - row.cost <= slack ? 1 : 0;
    }
    row.bySlack.set(slack, found);
    return found;
  }
}
