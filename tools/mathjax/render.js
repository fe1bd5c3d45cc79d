#!/usr/bin/env node
// Batch renderer for scipix's training data: TeX math to SVG with MathJax 3 (its own fonts, as
// web pages show them). One process renders many formulas: it reads one JSON object per line on
// stdin, {"latex": "...", "display": true}, and writes one per line on stdout, in order:
// {"svg": "<svg ...>"} or {"error": "why"}. A formula MathJax cannot typeset (an unknown command,
// a syntax error) is an error line, never a red "error" rendering.
'use strict';
const readline = require('readline');
const { mathjax } = require('mathjax-full/js/mathjax.js');
const { TeX } = require('mathjax-full/js/input/tex.js');
const { SVG } = require('mathjax-full/js/output/svg.js');
const { liteAdaptor } = require('mathjax-full/js/adaptors/liteAdaptor.js');
const { RegisterHTMLHandler } = require('mathjax-full/js/handlers/html.js');
const { AllPackages } = require('mathjax-full/js/input/tex/AllPackages.js');

const adaptor = liteAdaptor();
RegisterHTMLHandler(adaptor);
const packages = AllPackages.filter((name) => name !== 'noundefined' && name !== 'noerrors');
const tex = new TeX({
  packages,
  formatError: (jax, err) => {
    throw err;
  },
});
const svg = new SVG({ fontCache: 'none' });
const html = mathjax.document('', { InputJax: tex, OutputJax: svg });

function render(latex, display) {
  const node = html.convert(latex, { display });
  const inner = adaptor.firstChild(node);
  if (!inner) throw new Error('empty output');
  const text = adaptor.outerHTML(inner);
  if (text.includes('data-mjx-error') || text.includes('merror')) throw new Error('MathJax error');
  return text;
}

const lines = readline.createInterface({ input: process.stdin, terminal: false });
lines.on('line', (line) => {
  let out;
  try {
    const job = JSON.parse(line);
    out = { svg: render(String(job.latex), job.display !== false) };
  } catch (err) {
    out = { error: String((err && err.message) || err).slice(0, 200) };
  }
  process.stdout.write(JSON.stringify(out) + '\n');
});
