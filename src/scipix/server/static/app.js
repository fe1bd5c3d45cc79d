// scipix web page: paste, drop or pick an image; POST /v3/text; show the results.
// Plain JavaScript, no build step, nothing loaded from elsewhere.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const MATHML_NS = "http://www.w3.org/1998/Math/MathML";
  const MATHML_ATTRIBUTES = new Set([
    "display", "mathvariant", "stretchy", "fence", "separator", "accent", "accentunder",
    "lspace", "rspace", "form", "largeop", "movablelimits", "symmetric", "minsize", "maxsize",
    "linethickness", "columnalign", "rowalign", "columnspacing", "rowspacing", "columnlines",
    "rowlines", "frame", "rowspan", "columnspan", "depth", "height", "width", "scriptlevel",
    "displaystyle", "notation", "open", "close", "separators", "xmlns", "encoding",
  ]);
  const page = { requestId: null, originalLatex: null, image: null };

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
      const hint = response.status === 401 ? " (set your app_id and app_key under “API key”)" : "";
      throw new Error(`${data.error_info.id}: ${data.error || data.error_info.message}${hint}`);
    }
    if (!response.ok) throw new Error(`the server answered HTTP ${response.status}`);
    return data;
  }

  function readAsDataUri(file) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result);
      reader.onerror = () => reject(new Error("the file could not be read"));
      reader.readAsDataURL(file);
    });
  }

  // Only MathML elements and presentation attributes survive: the markup comes from the
  // server, but the formula comes from an image anyone could have made.
  function sanitizedMathml(source) {
    const doc = new DOMParser().parseFromString(source, "application/xml");
    const root = doc.documentElement;
    if (!root || root.namespaceURI !== MATHML_NS || doc.getElementsByTagName("parsererror").length) {
      return null;
    }
    const copy = (node) => {
      if (node.nodeType === Node.TEXT_NODE) return document.createTextNode(node.nodeValue);
      if (node.nodeType !== Node.ELEMENT_NODE || node.namespaceURI !== MATHML_NS) return null;
      const element = document.createElementNS(MATHML_NS, node.localName);
      for (const attr of Array.from(node.attributes)) {
        if (MATHML_ATTRIBUTES.has(attr.localName)) element.setAttribute(attr.localName, attr.value);
      }
      for (const child of Array.from(node.childNodes)) {
        const kid = copy(child);
        if (kid) element.appendChild(kid);
      }
      return element;
    };
    return copy(root);
  }

  function dataOf(body, type) {
    const item = (body.data || []).find((entry) => entry.type === type);
    return item ? item.value : "";
  }

  function show(body) {
    const latex = body.latex_styled || dataOf(body, "latex") || "";
    const mathml = dataOf(body, "mathml");
    page.requestId = body.request_id || null;
    page.originalLatex = latex;
    $("latex").value = latex;
    for (const [id, value] of [["mathml", mathml], ["asciimath", dataOf(body, "asciimath")]]) {
      $(id).dataset.value = value;
      $(id).textContent = value || "(not available for this LaTeX)";
    }
    $("request-id").textContent = body.request_id || "";
    const rendered = $("rendered");
    rendered.replaceChildren();
    const math = mathml ? sanitizedMathml(mathml) : null;
    if (math) {
      math.setAttribute("display", "block");
      rendered.appendChild(math);
    } else {
      rendered.textContent = latex || body.text || "(nothing recognized)";
    }
    const confidence = typeof body.confidence === "number" ? body.confidence : null;
    $("confidence-meter").value = confidence === null ? 0 : confidence;
    $("confidence").textContent = confidence === null ? "–" : `${(confidence * 100).toFixed(1)} %`;
    $("submit-correction").disabled = true;
    $("result").hidden = false;
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

  async function recognize(file) {
    if (!file || !file.type.startsWith("image/")) {
      setStatus("That is not an image: paste, drop or choose a PNG, JPEG, WebP… file.", "error");
      return;
    }
    const src = await readAsDataUri(file);
    page.image = src;
    const preview = $("preview");
    preview.src = src;
    preview.hidden = false;
    setStatus("Recognizing…", "");
    try {
      const body = await callApi("/v3/text", {
        src,
        formats: ["text", "data", "latex_styled"],
        data_options: { include_latex: true, include_mathml: true, include_asciimath: true },
      });
      show(body);
      setStatus(...outcome(body));
    } catch (err) {
      $("result").hidden = true;
      setStatus(`Error: ${err.message}`, "error");
    }
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
      setStatus(`Error: ${err.message}`, "error");
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
    $("latex").addEventListener("input", () => {
      $("submit-correction").disabled = $("latex").value.trim() === (page.originalLatex || "");
    });
    $("submit-correction").addEventListener("click", submitCorrection);
    document.querySelectorAll("button[data-copy]").forEach((button) => {
      button.addEventListener("click", () => {
        const source = $(button.dataset.copy);
        copyText(source.value !== undefined ? source.value : source.dataset.value || "", button);
      });
    });
    $("app-id").value = localStorage.getItem("scipix.app_id") || "";
    $("app-key").value = localStorage.getItem("scipix.app_key") || "";
    $("save-key").addEventListener("click", () => {
      localStorage.setItem("scipix.app_id", $("app-id").value.trim());
      localStorage.setItem("scipix.app_key", $("app-key").value.trim());
      setStatus("Key saved in this browser.", "ok");
    });
  }

  wire();
})();
