// scipix web page: the drawing pad. Write with a mouse, pen or finger (pointer events); each
// pause sends the strokes to POST /v3/strokes and the result (LaTeX, rendered math) is shown by
// app.js (window.scipixPage). Undo removes the last stroke, Clear all of them.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const PAUSE_MS = 600; // the strokes are sent this long after the pen was last lifted
  const PEN_PX = 3;
  const pad = { strokes: [], current: null, timer: null, seq: 0 };

  function canvas() { return $("pad"); }

  function fitCanvas() {
    const area = canvas();
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(1, Math.round(area.clientWidth * ratio));
    const height = Math.max(1, Math.round(area.clientHeight * ratio));
    if (area.width !== width || area.height !== height) {
      area.width = width;
      area.height = height;
    }
    redraw();
  }

  function redraw() {
    const area = canvas();
    const context = area.getContext("2d");
    const ratio = window.devicePixelRatio || 1;
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, area.width, area.height);
    context.lineWidth = PEN_PX;
    context.lineCap = "round";
    context.lineJoin = "round";
    context.strokeStyle = "#1d232b";
    context.fillStyle = "#1d232b";
    for (const stroke of pad.strokes.concat(pad.current ? [pad.current] : [])) {
      context.beginPath();
      if (stroke.x.length === 1) {
        context.arc(stroke.x[0], stroke.y[0], PEN_PX / 2, 0, 2 * Math.PI);
        context.fill();
        continue;
      }
      stroke.x.forEach((x, i) => (i ? context.lineTo(x, stroke.y[i]) : context.moveTo(x, stroke.y[i])));
      context.stroke();
    }
    $("pad-undo").disabled = pad.strokes.length === 0;
    $("pad-clear").disabled = pad.strokes.length === 0;
  }

  function point(event) {
    const box = canvas().getBoundingClientRect();
    return [Math.round((event.clientX - box.left) * 10) / 10,
      Math.round((event.clientY - box.top) * 10) / 10];
  }

  function addPoint(event) {
    const [x, y] = point(event);
    const stroke = pad.current;
    const last = stroke.x.length - 1;
    if (last >= 0 && stroke.x[last] === x && stroke.y[last] === y) return;
    stroke.x.push(x);
    stroke.y.push(y);
  }

  function down(event) {
    if (event.button !== undefined && event.button > 0) return; // the main button or a touch
    event.preventDefault();
    canvas().setPointerCapture(event.pointerId);
    clearTimeout(pad.timer);
    pad.current = { x: [], y: [], pointer: event.pointerId };
    addPoint(event);
    redraw();
  }

  function move(event) {
    if (!pad.current || pad.current.pointer !== event.pointerId) return;
    event.preventDefault();
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    for (const each of events.length ? events : [event]) addPoint(each);
    redraw();
  }

  function up(event) {
    if (!pad.current || pad.current.pointer !== event.pointerId) return;
    addPoint(event);
    pad.strokes.push({ x: pad.current.x, y: pad.current.y });
    pad.current = null;
    redraw();
    schedule();
  }

  function schedule() {
    clearTimeout(pad.timer);
    pad.seq += 1; // an answer to older strokes is not shown
    if (pad.strokes.length === 0) {
      window.scipixPage.clearResult();
      window.scipixPage.setStatus("", "");
      return;
    }
    pad.timer = setTimeout(send, PAUSE_MS);
  }

  async function send() {
    const seq = pad.seq;
    const page = window.scipixPage;
    page.setStatus("Reading the strokes…", "");
    try {
      const body = await page.callApi("/v3/strokes", {
        strokes: { strokes: { x: pad.strokes.map((s) => s.x), y: pad.strokes.map((s) => s.y) } },
        formats: ["text", "data", "latex_styled", "html"],
        data_options: { include_latex: true, include_mathml: true, include_asciimath: true },
      });
      if (seq !== pad.seq) return;
      $("first-run").hidden = true;
      page.show(body);
      page.setStatus(...page.outcome(body));
    } catch (err) {
      if (seq !== pad.seq) return;
      page.clearResult();
      page.setStatus(page.explainError(err), "error");
    }
  }

  function undo() {
    if (!pad.strokes.length) return;
    pad.strokes.pop();
    redraw();
    schedule();
  }

  function clear() {
    pad.strokes = [];
    pad.current = null;
    redraw();
    schedule();
  }

  function wire() {
    const area = canvas();
    area.addEventListener("pointerdown", down);
    area.addEventListener("pointermove", move);
    area.addEventListener("pointerup", up);
    area.addEventListener("pointercancel", up);
    area.addEventListener("keydown", (event) => {
      if ((event.ctrlKey || event.metaKey) && event.key === "z") {
        event.preventDefault();
        undo();
      }
    });
    $("pad-undo").addEventListener("click", undo);
    $("pad-clear").addEventListener("click", clear);
    window.addEventListener("resize", fitCanvas);
    fitCanvas();
  }

  wire();
})();
