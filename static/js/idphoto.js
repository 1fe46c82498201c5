// The passport / ID photo mode: pick the document, upload one photo, follow the job live, then
// show the photo (with optional guides), its compliance checklist and the downloads. One ID
// photo at a time; a reload re-attaches to it.

import { announce } from "./announce.js";
import { Api } from "./api.js";
import { drawGuides, renderChecks } from "./idphoto-report.js";
import { followJob } from "./job-socket.js";
import { describeStage, FINISHED } from "./stages.js";
import { collectImages } from "./upload-sources.js";

const $ = (id) => document.getElementById(id);
const panel = $("idphoto-mode");
const api = new Api(panel.dataset.apiJobs);
const select = $("id-preset");
const JOB_KEY = "clearcut.idphoto"; // this tab's ID photo job (sessionStorage)
const PRESET_KEY = "clearcut.idphoto.preset"; // the document last chosen (localStorage)

let current = null; // { job, follower, cancel }
let lastFile = null; // the photo last uploaded, for "Use the same photo for this document"

function remember(storage, key, value) {
  try {
    if (value) storage.setItem(key, value);
    else storage.removeItem(key);
  } catch {
    // Private browsing can refuse storage; the page works without it.
  }
}

function recall(storage, key) {
  try {
    return storage.getItem(key);
  } catch {
    return null;
  }
}

function showNotice(text) {
  $("id-notice").textContent = text;
  $("id-notice").hidden = !text;
}

// --- The document ------------------------------------------------------------------------

function showDocument() {
  const option = select.selectedOptions[0];
  $("id-preset-text").textContent = option.dataset.spec;
  $("id-preset-chip").style.background = option.dataset.background;
  const madeFor = current?.job?.preset?.key;
  $("id-remake").hidden = !lastFile || !madeFor || madeFor === select.value;
}

select.addEventListener("change", () => {
  remember(localStorage, PRESET_KEY, select.value);
  showDocument();
});

// --- One job -----------------------------------------------------------------------------

function setProgress(text, percent) {
  $("id-status").textContent = text;
  const value = Math.max(0, Math.min(100, Math.round(percent || 0)));
  $("id-bar").setAttribute("aria-valuenow", String(value));
  $("id-bar").querySelector(".progress__fill").style.setProperty("--progress", String(value / 100));
  $("id-progress").hidden = false;
}

// The page shows one ID photo: the one it replaces is deleted on the server too, since
// nothing on the page could reach it any more.
function dropCurrent() {
  if (!current) return;
  current.cancel.abort();
  current.follower?.stop();
  if (current.job) api.deleteJob(current.job.id).catch(() => {});
  current = null;
  remember(sessionStorage, JOB_KEY, null);
}

async function start(files) {
  const [file] = files;
  showNotice(files.length > 1 ? "One photo at a time: the first one was used." : "");
  dropCurrent();
  lastFile = file;
  $("id-result").hidden = true;
  const entry = { job: null, follower: null, cancel: new AbortController() };
  current = entry;
  setProgress(describeStage({ stage: "uploading", progress: 0 }), 0);
  try {
    const job = await api.createJob(
      file,
      { mode: "idphoto", preset: select.value },
      (percent) => setProgress(describeStage({ stage: "uploading", progress: percent }), percent),
      entry.cancel.signal,
    );
    if (entry.cancel.signal.aborted) {
      api.deleteJob(job.id).catch(() => {}); // replaced in the instant its upload finished
      return;
    }
    track(entry, job);
  } catch (error) {
    if (entry.cancel.signal.aborted) return;
    fail(error.message);
  }
}

function track(entry, job) {
  entry.job = job;
  remember(sessionStorage, JOB_KEY, job.id);
  apply(entry, job, { restoring: false });
  if (!FINISHED.has(job.stage)) {
    entry.follower = followJob(job.ws, {
      onEvent: (state) => apply(entry, state, { restoring: false }),
      onGone: () => forget(entry),
      poll: () => api.getJob(job.id),
    });
  }
}

function apply(entry, state, { restoring }) {
  if (entry !== current) return; // a late message for a job already replaced
  entry.job = { ...entry.job, ...state };
  if (state.stage === "done") showResult(entry.job, { restoring });
  else if (state.stage === "error") fail(state.error || "This photo couldn't be made into an ID photo.");
  else setProgress(describeStage(state), state.progress);
}

function fail(message) {
  $("id-progress").hidden = true;
  showNotice(message);
  announce(message);
  showDocument();
}

// The job vanished on the server (deleted in another tab, or expired).
function forget(entry) {
  if (entry !== current) return;
  current = null;
  remember(sessionStorage, JOB_KEY, null);
  $("id-progress").hidden = true;
  $("id-result").hidden = true;
  showDocument();
}

// --- The result --------------------------------------------------------------------------

function showResult(job, { restoring }) {
  const { report } = job;
  const { preset } = report;
  $("id-progress").hidden = true;
  $("id-result-document").textContent = preset.name;
  $("id-photo").src = job.urls.photo;
  $("id-photo").alt = `Your ID photo for ${preset.name}`;
  const hasEyeBand = drawGuides($("id-guides"), report.guides);
  $("id-guides-key-eyes").hidden = !hasEyeBand;
  showGuides();

  const failed = renderChecks($("id-checks"), $("id-check-template"), report);
  const total = report.checks.length;
  $("id-verdict").textContent = failed
    ? `${failed} of ${total} checks failed: see below what to change.`
    : `Meets all ${total} checks for ${preset.name}.`;
  $("id-verdict").classList.toggle("verdict--fail", failed > 0);

  $("id-download-photo").href = job.urls.photo;
  const [width, height] = preset.pixels;
  const [printW, printH] = preset.size_mm;
  $("id-photo-note").textContent =
    `${width}×${height} px, ${report.measurements.file_kb} kB: upload this file, or print it at ${printW}×${printH} mm.`;
  for (const row of $("id-sheets").children) {
    const paper = row.dataset.paper;
    const copies = job.sheets?.[paper]?.copies;
    row.querySelector(".sheets__copies").textContent = copies ? `· ${copies} copies` : "";
    for (const link of row.querySelectorAll("a[data-format]")) link.href = job.urls.sheets[paper][link.dataset.format];
  }
  const expires = new Date(job.expires_at).toLocaleString([], { weekday: "short", hour: "2-digit", minute: "2-digit" });
  $("id-expiry").textContent = `Kept until ${expires}, then deleted automatically.`;

  const wasHidden = $("id-result").hidden;
  $("id-result").hidden = false;
  showDocument();
  if (wasHidden && !restoring) {
    announce(
      failed ? `Your ID photo is ready; ${failed} of ${total} checks failed.` : "Your ID photo is ready and meets all checks.",
    );
    const reduce = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    $("id-result").scrollIntoView({ behavior: reduce ? "auto" : "smooth", block: "start" });
    $("id-result-title").focus({ preventScroll: true });
  }
}

function showGuides() {
  const on = $("id-show-guides").checked;
  $("id-guides").toggleAttribute("hidden", !on); // an <svg> has the attribute but no .hidden property
  $("id-guides-key").hidden = !on;
}

$("id-show-guides").addEventListener("change", showGuides);

$("id-delete").addEventListener("click", async () => {
  if (!current?.job) return;
  try {
    await api.deleteJob(current.job.id);
  } catch (error) {
    if (error.status !== 404) {
      showNotice(error.message);
      return;
    }
  }
  forget(current);
  lastFile = null;
  showDocument();
  $("id-pick").focus();
  announce("Your ID photo was deleted from the server.");
});

$("id-remake").addEventListener("click", () => {
  if (lastFile) start([lastFile]);
});

// --- Start -------------------------------------------------------------------------------

function restore() {
  const id = recall(sessionStorage, JOB_KEY);
  if (!id) return;
  const entry = { job: null, follower: null, cancel: new AbortController() };
  current = entry;
  api.getJob(id).then(
    (job) => {
      if (entry !== current) return;
      entry.job = job;
      if (job.stage === "done") apply(entry, job, { restoring: true });
      else if (job.stage !== "error") track(entry, job); // an old failure is not worth repeating
      else forget(entry);
    },
    () => forget(entry),
  );
}

const saved = recall(localStorage, PRESET_KEY);
if (saved && [...select.options].some((option) => option.value === saved)) select.value = saved;
showDocument();
collectImages(
  {
    dropzone: $("id-dropzone"),
    pickButton: $("id-pick"),
    fileInput: $("id-file-input"),
    cameraButton: $("id-camera"),
    cameraInput: $("id-camera-input"),
  },
  start,
);
restore();
