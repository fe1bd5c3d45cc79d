// The web page's switch "Recognize in this browser": when on, an image pasted, dropped or
// chosen is read here (local-ocr.js) and never sent; the model is fetched once when the switch
// is turned on, so recognition goes on with the server offline. app.js hands images over
// through window.scipixLocal.
import { LocalRecognizer, fetchManifest } from "./local-ocr.js";

const $ = (id) => document.getElementById(id);
const STORAGE_KEY = "scipix.local";
const state = { recognizer: null, loading: null };

function note(text, kind) {
  $("local-note").textContent = text;
  $("local-note").className = `hint ${kind || ""}`;
}

async function turnOn() {
  const page = window.scipixPage;
  note("Loading the model into this browser…");
  try {
    const manifest = await fetchManifest();
    state.recognizer = await LocalRecognizer.load(manifest, (text) => note(text));
    note(`On: images stay on this machine (model ${state.recognizer.version}).`, "ok");
    document.body.dataset.local = "ready";
  } catch (err) {
    $("local-mode").checked = false;
    localStorage.removeItem(STORAGE_KEY);
    const id = err.id ? `${err.id}: ` : "";
    note(`Off: ${id}${err.message}`, "error");
    page.setStatus(`In-browser recognition is not available: ${id}${err.message}`, "error");
    document.body.dataset.local = "failed";
  }
}

function switched() {
  if ($("local-mode").checked) {
    localStorage.setItem(STORAGE_KEY, "1");
    state.loading = turnOn();
  } else {
    localStorage.removeItem(STORAGE_KEY);
    state.recognizer = null;
    note("Off: images are sent to this server.");
    document.body.dataset.local = "off";
  }
}

async function recognize(file) {
  const page = window.scipixPage;
  page.clearResult();
  if (state.loading) await state.loading;
  if (!state.recognizer) return;
  page.setStatus("Recognizing in this browser…", "");
  const preview = $("preview");
  preview.hidden = false;
  preview.src = URL.createObjectURL(file);
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const found = await state.recognizer.recognize(bytes);
    page.show({
      latex_styled: found.latex,
      confidence: found.confidence,
      data: [{ type: "latex", value: found.latex }],
    });
    document.body.dataset.localMs = found.ms.toFixed(1);
    document.body.dataset.localTimings = JSON.stringify(found.timings);
    if (found.closed) {
      page.setStatus(`Done in this browser (${Math.round(found.ms)} ms).`, "ok");
    } else {
      page.setStatus("Warning: the reading ran out of length; check the LaTeX.", "warning");
    }
  } catch (err) {
    page.clearResult();
    page.setStatus(err.id ? `Error: ${err.id}: ${err.message}` : `Error: ${err.message}`, "error");
  }
}

async function wire() {
  const box = $("local-mode");
  box.addEventListener("change", switched);
  window.scipixLocal = { active: () => box.checked, recognize };
  try {
    await fetchManifest();
    box.disabled = false;
    note("Off: images are sent to this server.");
    if (localStorage.getItem(STORAGE_KEY) === "1") {
      box.checked = true;
      switched();
    }
  } catch (err) {
    box.disabled = true;
    note(`Not available: ${err.id ? `${err.id}: ` : ""}${err.message}`, "error");
    document.body.dataset.local = "unavailable";
  }
}

wire();
