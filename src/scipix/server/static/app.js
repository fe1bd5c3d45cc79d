// scipix web page: paste, drop or pick an image; POST /v3/text; show the whole result.
// Plain JavaScript, no build step, nothing loaded from elsewhere: math is the MathML the server
// sends (Chromium, Firefox and Safari lay MathML out themselves); edited LaTeX is rendered again
// by POST /web/preview.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const MATHML_NS = "http://www.w3.org/1998/Math/MathML";
  const HTML_NS = document.documentElement.namespaceURI; // XHTML's (no URL in this file)
  const MATHML_ATTRIBUTES = new Set([
    "display", "mathvariant", "stretchy", "fence", "separator", "accent", "accentunder",
    "lspace", "rspace", "form", "largeop", "movablelimits", "symmetric", "minsize", "maxsize",
    "linethickness", "columnalign", "rowalign", "columnspacing", "rowspacing", "columnlines",
    "rowlines", "frame", "rowspan", "columnspan", "depth", "height", "width", "scriptlevel",
    "displaystyle", "notation", "open", "close", "separators", "xmlns", "encoding",
  ]);
  // HTML the server's `html` output may hold; their text and MathML are kept, nothing else.
  const HTML_TAGS = new Set(["div", "span", "p", "br", "code", "strong", "em", "b", "i",
    "sub", "sup", "table", "thead", "tbody", "tr", "td", "th"]);
  // Elements never shown: copies hidden by the server (mathpix-markdown-it's <mathml>,
  // <asciimath>, <latex>), pictures and anything active.
  const DROPPED_TAGS = new Set(["mathml", "asciimath", "latex", "svg", "img", "script", "style",
    "template", "iframe", "object", "embed", "link", "meta"]);
  // Confidence bands of the bar (also said on the page): red below 0.5, amber below 0.8.
  const BANDS = [[0.5, "band-low", "low: check it"], [0.8, "band-mid", "check it"],
    [Infinity, "band-high", ""]];
  // The server refuses images past server.max_image_bytes (2 MB by default): a larger file is
  // drawn smaller on a canvas first, at most SEND_MAX_SIDE pixels on its long side (the text
  // reader works at 2000) and SEND_MAX_BYTES bytes.
  const SEND_MAX_BYTES = 1_500_000;
  const SEND_MAX_SIDE = 2400;
  const PREVIEW_DELAY_MS = 250;
  const page = {
    requestId: null, originalLatex: null, image: null, mode: "latex", previewSeq: 0,
    previewTimer: null,
  };

  function credentials() {
    const id = localStorage.getItem("scipix.app_id") || "";
    const key = localStorage.getItem("scipix.app_key") || "";
    return id && key ? { app_id: id, app_key: key } : {};
  }

  function setStatus(text, kind) {
    const status = $("status");
    status.textContent = text;
    status.className = kind || "";
  }

  async function callApi(path, body) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...credentials() },
      body: JSON.stringify(body),
    });
    let data = null;
    try {
      data = await response.json();
    } catch (_err) {
      throw new Error(`the server answered HTTP ${response.status} without JSON`);
    }
    if (data && data.error_info) {
      const error = new Error(`${data.error_info.id}: ${data.error || data.error_info.message}`);
      error.status = response.status;
      throw error;
    }
    if (!response.ok) throw new Error(`the server answered HTTP ${response.status}`);
    return data;
  }

  // --- the image: read, shrunk when too large, shown -----------------------------------------

  function readAsDataUri(blob) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result);
      reader.onerror = () => reject(new Error("the file could not be read"));
      reader.readAsDataURL(blob);
    });
  }

  function canvasBlob(bitmap, side, quality) {
    const scale = Math.min(1, side / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    const context = canvas.getContext("2d");
    context.fillStyle = "#ffffff"; // a transparent PNG becomes black on JPEG otherwise
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    return new Promise((resolve) => {
      canvas.toBlob((blob) => resolve({ blob, width: canvas.width, height: canvas.height }),
        "image/jpeg", quality);
    });
  }

  const megabytes = (n) => `${(n / 1e6).toFixed(1)} MB`;

  // The data URI to send, and a note when the image was shrunk first.
  async function imageToSend(file) {
    if (file.size <= SEND_MAX_BYTES) return { src: await readAsDataUri(file), note: "" };
    let bitmap;
    try {
      bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
    } catch (_err) {
      return { src: await readAsDataUri(file), note: "" }; // the server says what is wrong
    }
    let side = Math.min(SEND_MAX_SIDE, Math.max(bitmap.width, bitmap.height));
    let made = await canvasBlob(bitmap, side, 0.9);
    for (let i = 0; i < 6 && made.blob && made.blob.size > SEND_MAX_BYTES; i += 1) {
      side = Math.round(side * 0.8);
      made = await canvasBlob(bitmap, side, 0.85);
    }
    const note = "Shrunk before sending: "
      + `${bitmap.width}×${bitmap.height} (${megabytes(file.size)})`
      + ` → ${made.width}×${made.height} (${megabytes(made.blob.size)}).`;
    bitmap.close();
    return { src: await readAsDataUri(made.blob), note };
  }

  function showImage(src, note) {
    const preview = $("preview");
    preview.onerror = () => { preview.hidden = true; }; // a format this browser cannot show
    preview.hidden = false;
    preview.src = src;
    $("image-note").textContent = note;
    $("image-note").hidden = !note;
  }

  // --- MathML and HTML from the server, sanitized --------------------------------------------

  // Only MathML elements with presentation attributes, and plain HTML with a class, survive:
  // the markup comes from the server, but the formula comes from an image anyone could make.
  function cleanCopy(node) {
    if (node.nodeType === Node.TEXT_NODE) return document.createTextNode(node.nodeValue);
    if (node.nodeType !== Node.ELEMENT_NODE) return null;
    const name = node.localName.toLowerCase();
    if (DROPPED_TAGS.has(name) && node.namespaceURI !== MATHML_NS) return null;
    let element;
    if (node.namespaceURI === MATHML_NS) {
      element = document.createElementNS(MATHML_NS, node.localName);
      for (const attr of Array.from(node.attributes)) {
        if (MATHML_ATTRIBUTES.has(attr.localName)) element.setAttribute(attr.localName, attr.value);
      }
    } else if (node.namespaceURI === HTML_NS && HTML_TAGS.has(name)) {
      element = document.createElement(name);
      if (node.getAttribute("class")) element.className = node.getAttribute("class");
    } else {
      element = document.createDocumentFragment(); // unknown: keep what it holds
    }
    for (const child of Array.from(node.childNodes)) {
      const kid = cleanCopy(child);
      if (kid) element.appendChild(kid);
    }
    return element;
  }

  function sanitizedMathml(source) {
    const doc = new DOMParser().parseFromString(source, "application/xml");
    const root = doc.documentElement;
    if (!root || root.namespaceURI !== MATHML_NS || doc.getElementsByTagName("parsererror").length) {
      return null;
    }
    return cleanCopy(root);
  }

  function sanitizedHtml(source) {
    const doc = new DOMParser().parseFromString(source, "text/html");
    const fragment = document.createDocumentFragment();
    for (const child of Array.from(doc.body.childNodes)) {
      const kid = cleanCopy(child);
      if (kid) fragment.appendChild(kid);
    }
    return fragment;
  }

  // Long formulas are scaled down to the width there is (to 55 %), then scroll inside the box.
  function fitRendered() {
    const rendered = $("rendered");
    rendered.style.fontSize = "";
    const room = rendered.clientWidth;
    const needed = rendered.scrollWidth;
    if (room > 0 && needed > room) {
      const base = parseFloat(getComputedStyle(rendered).fontSize);
      rendered.style.fontSize = `${Math.max(0.55, room / needed) * base}px`;
    }
    $("rendered-hint").hidden = !(room > 0 && rendered.scrollWidth > room + 1);
  }

  function render(content, fallbackText) {
    const rendered = $("rendered");
    rendered.replaceChildren();
    if (content && (content.nodeType === Node.ELEMENT_NODE || content.childNodes.length)) {
      rendered.appendChild(content);
    } else {
      rendered.textContent = fallbackText || "(nothing recognized)";
    }
    for (const math of rendered.querySelectorAll("math")) {
      if (math.parentElement === rendered) math.setAttribute("display", "block");
    }
    fitRendered();
  }

  // --- the result ----------------------------------------------------------------------------

  function dataOf(body, type) {
    return (body.data || []).filter((entry) => entry.type === type).map((entry) => entry.value);
  }

  function setOutput(id, values, joiner) {
    const value = values.join(joiner);
    $(id).dataset.value = value;
    $(id).textContent = value || "(not available for this LaTeX)";
  }

  function band(confidence) {
    return BANDS.find(([upper]) => confidence < upper);
  }

  function showConfidence(confidence) {
    const fill = $("confidence-fill");
    const known = typeof confidence === "number";
    const [, cls, advice] = known ? band(confidence) : [0, "", ""];
    fill.className = cls;
    fill.style.width = known ? `${Math.round(confidence * 100)}%` : "0";
    $("confidence-bar").setAttribute("aria-valuenow", known ? (confidence * 100).toFixed(1) : "0");
    const percent = known ? `${(confidence * 100).toFixed(1)} %` : "–";
    $("confidence").textContent = advice ? `${percent} (${advice})` : percent;
  }

  function summaryOf(body, formulas) {
    const lines = Array.isArray(body.line_data) ? body.line_data : [];
    const math = lines.filter((line) => line.type === "math").length;
    const count = (n, what) => `${n} ${what}${n === 1 ? "" : "s"}`;
    const what = lines.length
      ? `${count(lines.length, "line")} (${math} of math, ${lines.length - math} of text)`
      : count(formulas, "formula");
    return `${what}: all of it is shown below, the math between \\( \\) or \\[ \\]`
      + " (Mathpix Markdown); Copy copies all of it.";
  }

  // The editor grows with its text (wrapped lines too), up to about 16 lines.
  function fitEditor() {
    const area = $("latex");
    area.style.height = "auto";
    const line = parseFloat(getComputedStyle(area).lineHeight) || 20;
    area.style.height = `${Math.min(area.scrollHeight + 2, line * 16)}px`;
  }

  function show(body) {
    const single = typeof body.latex_styled === "string";
    const latexes = dataOf(body, "latex");
    const mathml = dataOf(body, "mathml");
    page.mode = single ? "latex" : "text";
    const editable = single ? body.latex_styled : body.text || latexes.join("\n") || "";
    page.requestId = body.request_id || null;
    page.originalLatex = editable;
    $("latex").value = editable;
    $("rendered").classList.toggle("page", !single);
    $("latex-title").textContent = single ? "LaTeX" : "Text with LaTeX (Mathpix Markdown)";
    $("result-summary").textContent = single ? "" : summaryOf(body, latexes.length);
    $("result-summary").hidden = single;
    $("edit-note").textContent = "";
    $("edit-note").className = "hint";
    setOutput("mathml", single ? mathml.slice(0, 1) : mathml, "\n\n");
    setOutput("asciimath", dataOf(body, "asciimath").slice(0, single ? 1 : undefined), "\n");
    $("request-id").textContent = body.request_id || "";
    if (single) {
      render(mathml.length ? sanitizedMathml(mathml[0]) : null, body.latex_styled);
    } else {
      render(body.html ? sanitizedHtml(body.html) : null, body.text);
    }
    showConfidence(body.confidence);
    $("submit-correction").disabled = true;
    $("result").hidden = false;
    fitEditor(); // sizes are known once the result is shown
    fitRendered();
  }

  // An error (or a new image) leaves nothing of the previous result on the page.
  function clearResult() {
    $("result").hidden = true;
    $("latex").value = "";
    $("rendered").replaceChildren();
    $("rendered-hint").hidden = true;
    setOutput("mathml", [], "");
    setOutput("asciimath", [], "");
    $("request-id").textContent = "";
    $("result-summary").textContent = "";
    $("edit-note").textContent = "";
    showConfidence(null);
    page.requestId = null;
    page.originalLatex = null;
    page.previewSeq += 1; // a preview still on its way is not shown
  }

  // "Done." only for a result without warnings: LaTeX that is not valid (latex_valid false)
  // is shown, but with the reason, never as a success.
  function outcome(body) {
    const warnings = Array.isArray(body.warnings) ? body.warnings : [];
    if (body.latex_valid === false || warnings.length) {
      const why = warnings.map((w) => w.message).join("; ") || "the LaTeX is not valid";
      return [`Warning: ${why}. Check the LaTeX before you use it.`, "warning"];
    }
    return ["Done.", "ok"];
  }

  function explainError(err) {
    if (err.status !== 401) return `Error: ${err.message}`;
    $("first-run").hidden = false;
    const saved = Object.keys(credentials()).length > 0;
    if (saved) {
      return `Error: ${err.message}. The key saved under “API key” was refused: check it, or`
        + " create a new one on the server with scipix keys create --name me.";
    }
    $("credentials").open = true;
    return `Error: ${err.message}. This server needs an API key: create one with`
      + " scipix keys create --name me and enter it under “API key” (the box above says how),"
      + ' or run the server with server.auth = "none_on_loopback" for use from this machine'
      + " only.";
  }

  async function recognize(file) {
    if (file && window.scipixLocal && window.scipixLocal.active()) {
      window.scipixLocal.recognize(file); // local-page.js: read in this browser, never sent
      return;
    }
    if (!file || !file.type.startsWith("image/")) {
      setStatus("That is not an image: paste, drop or choose a PNG, JPEG, WebP… file.", "error");
      return;
    }
    clearResult();
    setStatus("Reading the image…", "");
    try {
      const { src, note } = await imageToSend(file);
      page.image = src;
      showImage(src, note);
      setStatus("Recognizing…", "");
      const body = await callApi("/v3/text", {
        src,
        formats: ["text", "data", "latex_styled", "html"],
        data_options: { include_latex: true, include_mathml: true, include_asciimath: true },
        include_line_data: true,
      });
      $("first-run").hidden = true;
      show(body);
      setStatus(...outcome(body));
    } catch (err) {
      clearResult();
      setStatus(explainError(err), "error");
    }
  }

  // --- editing: the rendering follows the LaTeX ----------------------------------------------

  async function previewEdit() {
    const seq = ++page.previewSeq;
    const source = $("latex").value;
    const note = $("edit-note");
    if (!source.trim()) {
      render(null, "(nothing to show)");
      return;
    }
    try {
      const made = await callApi("/web/preview", { [page.mode]: source });
      if (seq !== page.previewSeq) return; // a newer edit, or a new image, came since
      render(sanitizedHtml(made.html), source);
      setOutput("mathml", made.mathml, "\n\n");
      setOutput("asciimath", made.asciimath, "\n");
      note.textContent = made.problems.length
        ? `Not valid LaTeX, shown as typed: ${made.problems.join("; ")}` : "";
      note.className = made.problems.length ? "hint warning" : "hint";
    } catch (err) {
      if (seq !== page.previewSeq) return;
      note.textContent = `The rendering could not be updated: ${err.message}`;
      note.className = "hint warning";
    }
  }

  function edited() {
    fitEditor();
    $("submit-correction").disabled = $("latex").value.trim() === (page.originalLatex || "");
    clearTimeout(page.previewTimer);
    page.previewTimer = setTimeout(previewEdit, PREVIEW_DELAY_MS);
  }

  async function submitCorrection() {
    const latex = $("latex").value.trim();
    if (!latex) return;
    try {
      const body = await callApi("/v3/corrections", {
        latex,
        request_id: page.requestId,
        original_latex: page.originalLatex,
        src: page.image,
      });
      page.originalLatex = latex;
      $("submit-correction").disabled = true;
      setStatus(`Correction ${body.correction_id} saved. Thank you.`, "ok");
    } catch (err) {
      setStatus(explainError(err), "error");
    }
  }

  async function copyText(text, button) {
    try {
      await navigator.clipboard.writeText(text);
    } catch (_err) {
      const area = document.createElement("textarea");
      area.value = text;
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1200);
  }

  function wire() {
    const zone = $("drop-zone");
    document.addEventListener("paste", (event) => {
      const items = Array.from(event.clipboardData ? event.clipboardData.items : []);
      const item = items.find((entry) => entry.type.startsWith("image/"));
      if (item) {
        event.preventDefault();
        recognize(item.getAsFile());
      }
    });
    ["dragenter", "dragover"].forEach((name) => zone.addEventListener(name, (event) => {
      event.preventDefault();
      zone.classList.add("dragging");
    }));
    ["dragleave", "drop"].forEach((name) => zone.addEventListener(name, () => {
      zone.classList.remove("dragging");
    }));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      const files = event.dataTransfer ? event.dataTransfer.files : [];
      if (files.length) recognize(files[0]);
    });
    $("file-input").addEventListener("change", (event) => {
      if (event.target.files.length) recognize(event.target.files[0]);
    });
    $("latex").addEventListener("input", edited);
    $("submit-correction").addEventListener("click", submitCorrection);
    document.querySelectorAll("button[data-copy]").forEach((button) => {
      button.addEventListener("click", () => {
        const source = $(button.dataset.copy);
        copyText(source.value !== undefined ? source.value : source.dataset.value || "", button);
      });
    });
    window.addEventListener("resize", () => { fitRendered(); fitEditor(); });
    $("app-id").value = localStorage.getItem("scipix.app_id") || "";
    $("app-key").value = localStorage.getItem("scipix.app_key") || "";
    $("save-key").addEventListener("click", () => {
      localStorage.setItem("scipix.app_id", $("app-id").value.trim());
      localStorage.setItem("scipix.app_key", $("app-key").value.trim());
      $("first-run").hidden = true;
      setStatus("Key saved in this browser.", "ok");
    });
  }

  wire();
  // What the drawing pad (pad.js) shows its results with.
  window.scipixPage = { callApi, show, setStatus, clearResult, outcome, explainError };
})();
