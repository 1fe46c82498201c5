// The upload page: takes photos in, uploads them one after another, shows each one's live
// progress on its card, opens finished ones in the editor, and re-attaches after a reload.

import { announce } from "./announce.js";
import { Api } from "./api.js";
import { batchHref } from "./downloads.js";
import { Editor } from "./editor.js";
import { JobCard } from "./job-card.js";
import { followJob } from "./job-socket.js";
import { jobStore } from "./job-store.js";
import { FINISHED } from "./stages.js";
import { collectImages } from "./upload-sources.js";

const $ = (id) => document.getElementById(id);
const config = $("uploader").dataset;
const maxFiles = Number(config.maxFiles);
const api = new Api(config.apiJobs);
const entries = new Map(); // job id -> { card, job, follower }
let uploads = Promise.resolve(); // one upload at a time keeps the queue in the order shown
let autoOpen = false; // open the first finished job while the editor is empty (not while restoring)

const notice = $("upload-notice");
function showNotice(text) {
  notice.textContent = text;
  notice.hidden = !text;
}

const editor = new Editor({
  api,
  loginUrl: config.authenticated === "true" ? null : config.loginUrl,
  onDelete: (id) => deleteJob(id),
  onChange: () => refreshZipLinks(),
  announce,
});

function newCard(name) {
  const card = new JobCard($("job-card-template"), name, {
    onOpen: (c) => openJob(c.jobId, { focus: true, scroll: true }),
    onDelete: (c) => (c.jobId ? deleteJob(c.jobId) : cancelUpload(c)),
  });
  card.cancel = new AbortController(); // aborts the upload if the card is removed first
  $("job-list").append(card.el);
  showJobs();
  return card;
}

// With images on the page the drop zone shrinks, so results come into view sooner.
function showJobs() {
  const any = $("job-list").children.length > 0;
  $("jobs").hidden = !any;
  $("uploader").classList.toggle("is-compact", any);
}

// A card without a job yet: waiting, uploading, or refused by the server.
function cancelUpload(card) {
  card.cancel.abort();
  dropCard(card);
  $("pick-files").focus(); // the focused card is gone: continue from the upload button
}

function dropCard(card) {
  card.remove();
  showJobs();
}

// Batches group uploads for one ZIP; a new one starts when the current one is full.
function batchFor(count) {
  const jobs = [...entries.values()].map((entry) => entry.job);
  const current = jobs.length ? jobs[jobs.length - 1].batch : null;
  const used = jobs.filter((job) => job.batch === current).length;
  return current && used + count <= maxFiles ? current : null;
}

function addFiles(files) {
  showNotice("");
  if (files.length > maxFiles) {
    showNotice(`You can add up to ${maxFiles} images at a time. The first ${maxFiles} were added.`);
    files = files.slice(0, maxFiles);
  }
  const cards = files.map((file) => {
    const card = newCard(file.name || "image");
    card.waiting("Waiting to upload");
    card.setThumbnail(URL.createObjectURL(file));
    return card;
  });
  // The batch is chosen when this group's turn comes, once earlier uploads have their ids.
  uploads = uploads.then(async () => {
    let batch = batchFor(files.length);
    for (const [index, file] of files.entries()) {
      const card = cards[index];
      const { signal } = card.cancel;
      if (signal.aborted) continue;
      try {
        const job = await api.createJob(file, batch ? { batch } : {}, (percent) => card.uploading(percent), signal);
        batch = job.batch;
        // Removed in the instant the upload finished: the server has it, so delete it there.
        if (signal.aborted) api.deleteJob(job.id).catch(() => {});
        else track(job, card);
      } catch (error) {
        if (signal.aborted) continue;
        card.fail(error.message);
        announce(`${card.name}: ${error.message}`);
      }
    }
  });
}

function track(job, card) {
  card.jobId = job.id;
  const entry = { card, job, follower: null };
  entries.set(job.id, entry);
  jobStore.add(job.id, job.name || card.name);
  apply(entry, job);
  if (!FINISHED.has(job.stage)) {
    entry.follower = followJob(job.ws, {
      onEvent: (state) => apply(entry, state),
      onGone: () => forget(job.id),
      poll: () => api.getJob(job.id),
    });
  }
}

function apply(entry, state) {
  const wasDone = entry.card.el.dataset.state === "done"; // the socket repeats states
  entry.job = { ...entry.job, ...state };
  entry.card.update(state);
  if (state.stage === "done" && !wasDone) {
    entry.card.setThumbnail(state.urls.preview);
    announce(`${entry.card.name} is ready.`);
    if (autoOpen && !editor.opening) openJob(state.id, { focus: false, scroll: true });
  } else if (state.stage === "error") {
    announce(`${entry.card.name}: ${state.error || "failed"}`);
  }
  refreshZipLinks();
}

async function openJob(id, { focus, scroll }) {
  const entry = entries.get(id);
  if (!entry) return;
  for (const other of entries.values()) other.card.setSelected(other === entry);
  jobStore.select(id);
  try {
    await editor.open(entry.job);
  } catch {
    showNotice(`${entry.card.name} couldn't be opened. Please reload the page.`);
    return;
  }
  if (scroll) {
    const reduce = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    $("editor").scrollIntoView({ behavior: reduce ? "auto" : "smooth", block: "start" });
  }
  if (focus) $("editor-title").focus({ preventScroll: true });
}

// The job disappeared on the server (deleted elsewhere, or expired).
function forget(id) {
  const entry = entries.get(id);
  if (!entry) return;
  entry.follower?.stop();
  entries.delete(id);
  jobStore.remove(id);
  if (editor.job?.id === id) editor.close();
  dropCard(entry.card);
  refreshZipLinks();
}

async function deleteJob(id) {
  const entry = entries.get(id);
  if (!entry) return;
  try {
    await api.deleteJob(id);
  } catch (error) {
    if (error.status !== 404) {
      showNotice(error.message);
      return;
    }
  }
  forget(id);
  $("pick-files").focus();
  announce(`${entry.card.name} was deleted from the server.`);
}

// One "Download all" link per batch with at least two finished images.
function refreshZipLinks() {
  const batches = new Map();
  for (const { job } of entries.values()) {
    if (job.stage !== "done") continue;
    batches.set(job.batch, [...(batches.get(job.batch) || []), job]);
  }
  const ready = [...batches.values()].filter((jobs) => jobs.length >= 2);
  const choice = editor.choice;
  const links = ready.map((jobs, index) => {
    const link = $("zip-template").content.firstElementChild.cloneNode(true);
    link.href = batchHref(jobs[0], choice);
    link.addEventListener("click", (event) => editor.afterSaving(event, link)); // the ZIP carries every edit
    link.querySelector(".zip-link__label").textContent =
      ready.length > 1 ? `Batch ${index + 1} as ZIP (${jobs.length} images)` : `Download all as ZIP (${jobs.length})`;
    return link;
  });
  $("zip-links").replaceChildren(...links);
}

function restore() {
  const saved = jobStore.all();
  const selected = jobStore.selected();
  // Cards appear at once in their old order; their state follows from the server.
  const pending = saved.map(({ id, name }) => {
    const card = newCard(name);
    card.waiting("Reconnecting…");
    return api.getJob(id).then(
      (job) => (card.cancel.signal.aborted ? api.deleteJob(id).catch(() => {}) : track(job, card)),
      (error) => {
        if (error.status === 404) {
          jobStore.remove(id);
          dropCard(card);
        } else card.fail(error.message);
      },
    );
  });
  Promise.all(pending).then(() => {
    autoOpen = true;
    const done = [...entries.values()].filter((entry) => entry.job.stage === "done");
    const entry = done.find((e) => e.job.id === selected) || done[0];
    if (entry) openJob(entry.job.id, { focus: false, scroll: false });
  });
}

collectImages(
  {
    dropzone: $("dropzone"),
    pickButton: $("pick-files"),
    fileInput: $("file-input"),
    cameraButton: $("take-photo"),
    cameraInput: $("camera-input"),
  },
  addFiles,
);
restore();
