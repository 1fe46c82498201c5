// The result view of one finished job: before/after preview, the touch-up brush (erase and
// restore, undo/redo, reset; saved to the job on the server), crop and canvas presets, shadow,
// background swap (all drawn in the browser, the model never runs again), zoom, and the
// download button with its size note.

import { blurredCopy, coverRect, paint } from "./backdrops.js";
import { TouchUp } from "./brush.js";
import { CompareSlider } from "./compare-slider.js";
import { capNote, describeFormat, downloadHref, downloadOverScene, needsClientComposite } from "./downloads.js";
import { drawShadow, layout, placed, placedBox, subjectBox } from "./framing.js";
import { StageView } from "./stage-view.js";

const $ = (id) => document.getElementById(id);

// The server's limits on an edit (remover/processing/edits.py).
const MAX_STROKES = 500;
const MAX_POINTS_PER_STROKE = 5000;
const MAX_POINTS = 50000;
const SAVE_DELAY_MS = 300;
const CUSTOM_SIDE = [16, 10000];

// The brush reads the previews' pixels: with CLEARCUT_S3_REDIRECTS they come from the bucket,
// which then must allow the site's origin (CORS), or the canvas would be tainted.
function loadImage(src) {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.crossOrigin = "anonymous";
    image.decoding = "async";
    image.addEventListener("load", () => resolve(image));
    image.addEventListener("error", () => reject(new Error(`Could not load ${src}`)));
    image.src = src;
  });
}

function pixelsOf(image, width, height) {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(image, 0, 0, width, height);
  return ctx.getImageData(0, 0, width, height);
}

const clamp = (v, low, high) => Math.min(Math.max(Number.isFinite(v) ? v : low, low), high);
const round2 = (v) => Math.round(v * 100) / 100;

export class Editor {
  constructor({ api, loginUrl, onDelete, onChange, announce }) {
    this.api = api;
    this.loginUrl = loginUrl;
    this.onChange = onChange;
    this.announce = announce;
    this.notice = $("editor-notice");
    this.section = $("editor");
    this.canvas = $("after-canvas");
    this.beforeImg = $("before-img");
    this.download = $("download");
    this.cursor = $("brush-cursor");
    this.job = null; // the job shown
    this.opening = null; // the job shown or being loaded: the editor is in use while set
    this.touch = null; // TouchUp of the shown job
    this.original = null;
    this.blurred = null;
    this.scene = null;
    this.focus = [0.5, 0.5];
    this.colour = document.querySelector('input[name="colour"]:checked').value;
    this.strokes = []; // in preview pixels
    this.undoStack = [];
    this.redoStack = [];
    this.revision = 0;
    this.pending = false; // strokes changed since the last save was sent
    this.saving = null; // the save in flight
    this.frozen = null; // the layout while a stroke is painted
    this.beforeKey = null;
    this.frame = 0;

    const stage = $("stage");
    this.slider = new CompareSlider(stage, $("divider"));
    this.view = new StageView(
      {
        viewport: $("viewport"), stage, zoomIn: $("zoom-in"), zoomOut: $("zoom-out"),
        zoomFit: $("zoom-fit"), zoomLevel: $("zoom-level"), hint: $("stage-hint"),
      },
      this.slider,
    );
    this.bindBackgroundControls();
    this.bindTouchUp();
    this.bindFraming();
    for (const radio of document.querySelectorAll('input[name="format"]')) {
      radio.addEventListener("change", () => this.refreshDownload());
    }
    this.download.addEventListener("click", (event) => this.clientDownload(event));
    $("delete-now").addEventListener("click", () => onDelete(this.job.id));
    for (const swatch of document.querySelectorAll(".swatch__chip[data-colour]")) {
      swatch.style.background = swatch.dataset.colour;
    }
  }

  bindBackgroundControls() {
    for (const radio of document.querySelectorAll('input[name="bg"]')) {
      radio.addEventListener("change", () => this.render());
    }
    for (const radio of document.querySelectorAll('input[name="colour"]')) {
      radio.addEventListener("change", () => this.setColour(radio.value, false));
    }
    $("colour-picker").addEventListener("input", (event) => this.setColour(event.target.value, true));

    const sceneInput = $("scene-input");
    $("pick-scene").addEventListener("click", () => sceneInput.click());
    sceneInput.addEventListener("change", () => {
      const [file] = sceneInput.files;
      sceneInput.value = "";
      if (file) this.setScene(file);
    });
    const x = $("scene-x");
    const y = $("scene-y");
    const fromSliders = () => {
      this.focus = [x.valueAsNumber / 100, y.valueAsNumber / 100];
      this.render();
    };
    x.addEventListener("input", fromSliders);
    y.addEventListener("input", fromSliders);
  }

  bindTouchUp() {
    for (const radio of document.querySelectorAll('input[name="tool"]')) {
      radio.addEventListener("change", () => this.setTool(radio.value));
    }
    $("undo").addEventListener("click", () => this.undo());
    $("redo").addEventListener("click", () => this.redo());
    $("reset-edit").addEventListener("click", () => this.resetEdit());
    $("brush-size").addEventListener("input", () => this.showCursorSize());
    document.addEventListener("keydown", (event) => {
      if (!this.job || this.section.hidden || !(event.ctrlKey || event.metaKey)) return;
      if (event.target.matches?.('input[type="text"], input[type="number"], textarea, select')) return;
      const key = event.key.toLowerCase();
      if (key === "z" && !event.shiftKey) this.undo();
      else if ((key === "z" && event.shiftKey) || key === "y") this.redo();
      else return;
      event.preventDefault();
    });
    this.painter = {
      start: (event) => this.strokeStart(event),
      move: (event) => this.strokeMove(event),
      end: () => this.strokeEnd(),
      cancel: () => this.strokeCancel(),
      hover: (event) => this.moveCursor(event),
    };
  }

  bindFraming() {
    const controls = ["crop", "margin", "margin-unit", "canvas-preset", "custom-width", "custom-height", "padding", "place-x", "place-y", "shadow-strength"];
    for (const id of controls) $(id).addEventListener("input", () => this.render());
    for (const radio of document.querySelectorAll('input[name="shadow"]')) {
      radio.addEventListener("change", () => this.render());
    }
  }

  get backgroundKind() {
    return document.querySelector('input[name="bg"]:checked').value;
  }

  get format() {
    return document.querySelector('input[name="format"]:checked').value;
  }

  get tool() {
    return document.querySelector('input[name="tool"]:checked').value;
  }

  // Crop, canvas and shadow as chosen (the download's options, framing.js's input).
  get framing() {
    const unit = $("margin-unit").value;
    const canvas = $("canvas-preset").value;
    const side = (id) => Math.round(clamp($(id).valueAsNumber, ...CUSTOM_SIDE));
    return {
      crop: $("crop").checked,
      margin: clamp($("margin").valueAsNumber, 0, unit === "%" ? 100 : 2000),
      unit,
      canvas,
      size: canvas === "custom" ? [side("custom-width"), side("custom-height")] : null,
      padding: clamp($("padding").valueAsNumber, 0, 40),
      position: [$("place-x").valueAsNumber / 100, $("place-y").valueAsNumber / 100],
      shadow: document.querySelector('input[name="shadow"]:checked').value,
      strength: $("shadow-strength").valueAsNumber / 100,
    };
  }

  // The chosen background, format, framing and edit revision without pixels: all a download link needs.
  get choice() {
    const kind = this.backgroundKind;
    return {
      background: kind === "colour" ? { kind, hex: this.colour } : { kind },
      format: this.format,
      framing: this.framing,
      revision: this.revision,
    };
  }

  // What the preview shows now; a "Photo" choice without a photo yet shows transparency.
  get background() {
    const kind = this.backgroundKind;
    if (kind === "colour") return { kind, hex: this.colour };
    if (kind === "scene" && this.scene) return { kind, image: this.scene, focus: this.focus };
    if (kind === "blur") {
      this.blurred ??= blurredCopy(this.original, this.touch.width, this.touch.height);
      return { kind, image: this.blurred };
    }
    return { kind: "transparent" };
  }

  setColour(hex, custom) {
    this.colour = hex;
    if (custom) for (const radio of document.querySelectorAll('input[name="colour"]')) radio.checked = false;
    $("colour-picker").closest(".swatch").classList.toggle("is-active", custom);
    this.render();
  }

  async setScene(file) {
    const url = URL.createObjectURL(file);
    try {
      const image = await loadImage(url);
      if (this.scene) URL.revokeObjectURL(this.scene.src);
      this.scene = image;
      this.focus = [0.5, 0.5];
      $("scene-x").value = "50";
      $("scene-y").value = "50";
      $("pick-scene-label").textContent = "Choose another photo";
      this.render();
      this.announce(`Background photo ${file.name} applied.`);
    } catch {
      URL.revokeObjectURL(url);
      this.warn("That file can't be shown by this browser. Please pick a JPEG, PNG or WebP photo.");
    }
  }

  // Drags on the preview move the background photo; deltas are fractions of the picture.
  moveScene(dx, dy) {
    const { width, height } = this.canvas;
    const r = coverRect(this.scene.naturalWidth, this.scene.naturalHeight, width, height, [0.5, 0.5]);
    const spareX = r.w - width;
    const spareY = r.h - height;
    this.focus = [
      spareX > 0 ? clamp(this.focus[0] - (dx * width) / spareX, 0, 1) : 0.5,
      spareY > 0 ? clamp(this.focus[1] - (dy * height) / spareY, 0, 1) : 0.5,
    ];
    $("scene-x").value = String(Math.round(this.focus[0] * 100));
    $("scene-y").value = String(Math.round(this.focus[1] * 100));
    this.render();
  }

  // Rejects when the previews can't be loaded; the editor then keeps what it showed before.
  async open(job) {
    this.opening = job;
    if (this.job?.id !== job.id) {
      let cutout, original, edit;
      try {
        [cutout, original, edit] = await Promise.all([
          loadImage(job.urls.preview), loadImage(job.urls.original), this.api.getEdit(job),
        ]);
      } catch (error) {
        if (this.opening === job) this.opening = this.job;
        throw error;
      }
      if (this.opening !== job) return; // another job was opened while these loaded
      if (this.job) this.flush(); // the previous job's last strokes still go to its server copy
      const width = cutout.naturalWidth;
      const height = cutout.naturalHeight;
      this.touch = new TouchUp(pixelsOf(cutout, width, height), pixelsOf(original, width, height));
      this.original = original;
      this.blurred = null;
      this.beforeKey = null;
      this.scale = [job.full_size[0] / width, job.full_size[1] / height];
      this.strokes = edit.strokes.map((s) => this.fromServer(s));
      this.undoStack = [];
      this.redoStack = [];
      this.revision = edit.revision;
      this.pending = false;
      this.touch.replay(this.strokes);
      $("custom-width").value ||= String(job.full_size[0]);
      $("custom-height").value ||= String(job.full_size[1]);
      $("editor-name").textContent = job.name ? `· ${job.name}` : "";
      const expires = new Date(job.expires_at).toLocaleString([], { weekday: "short", hour: "2-digit", minute: "2-digit" });
      $("expiry-note").textContent = `Otherwise kept until ${expires}, then deleted automatically.`;
      this.slider.set(50);
      this.job = job;
      this.section.hidden = false;
      this.render();
      this.view.setZoom(1);
      this.refreshHistory();
      this.status(this.strokes.length ? "Your touch-ups are saved with this image." : "");
      return;
    }
    this.job = job;
    this.section.hidden = false;
    this.render();
  }

  close() {
    this.flush();
    this.job = null;
    this.opening = null;
    this.section.hidden = true;
  }

  warn(message) {
    this.notice.textContent = message;
    this.notice.hidden = !message;
  }

  status(message) {
    $("edit-status").textContent = message;
  }

  // --- Preview -------------------------------------------------------------------------

  render() {
    if (!this.touch) return;
    this.warn("");
    const kind = this.backgroundKind;
    $("colour-options").hidden = kind !== "colour";
    $("scene-options").hidden = kind !== "scene";
    $("scene-position").hidden = !(kind === "scene" && this.scene);
    const framing = this.framing;
    $("custom-size").hidden = framing.canvas !== "custom";
    $("placement").hidden = framing.canvas === "original" && framing.padding === 0;
    $("margin-row").hidden = !framing.crop;
    $("shadow-strength-row").hidden = framing.shadow === "off";
    this.view.setSceneMover(kind === "scene" && this.scene && this.tool === "compare" ? (dx, dy) => this.moveScene(dx, dy) : null);
    this.draw();
    this.refreshDownload();
  }

  // Redraws the picture (cheap enough for every frame of a stroke).
  draw() {
    const framing = this.framing;
    const lay = this.frozen ?? layout(framing, this.touch.result, 1 / this.scale[0]);
    this.lay = lay;
    const [width, height] = lay ? lay.canvas : [this.touch.width, this.touch.height];
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    this.view.setImageSize(width, height);
    const cutout = lay ? placed(this.touch.canvas, lay) : this.touch.canvas;
    let shadow = null;
    if (framing.shadow !== "off") {
      const box = subjectBox(this.touch.result);
      const where = box && lay ? placedBox(box, lay) : box;
      shadow = (ctx) => drawShadow(ctx, cutout, where, framing.shadow, framing.strength);
    }
    paint(this.canvas, cutout, this.background, shadow);
    this.drawBefore(lay);
  }

  // The "before" side shows the photo with the same crop and canvas as the result.
  drawBefore(lay) {
    const key = lay ? JSON.stringify(lay) : "";
    if (key === this.beforeKey) return;
    this.beforeKey = key;
    if (this.beforeImg.src.startsWith("blob:")) URL.revokeObjectURL(this.beforeImg.src);
    if (!lay) {
      this.beforeImg.src = this.original.src;
      return;
    }
    placed(this.original, lay).toBlob((blob) => {
      if (blob && this.beforeKey === key) this.beforeImg.src = URL.createObjectURL(blob);
    });
  }

  scheduleDraw() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  // --- Brush ---------------------------------------------------------------------------

  setTool(tool) {
    const painting = tool !== "compare";
    this.view.setPainter(painting ? this.painter : null);
    this.cursor.hidden = true;
    $("brush-options").hidden = !painting;
    this.render();
  }

  // Pointer -> pixels of the preview cut-out, through the crop and canvas shown.
  toImage(event) {
    const rect = this.canvas.getBoundingClientRect();
    const x = ((event.clientX - rect.left) * this.canvas.width) / rect.width;
    const y = ((event.clientY - rect.top) * this.canvas.height) / rect.height;
    const lay = this.frozen ?? this.lay;
    let point = [x, y];
    if (lay) {
      const [sx, sy, sw, sh] = lay.source;
      const [bx, by, bw, bh] = lay.box;
      point = [sx + ((x - bx) * sw) / bw, sy + ((y - by) * sh) / bh];
    }
    return [clamp(point[0], 0, this.touch.width), clamp(point[1], 0, this.touch.height)];
  }

  // The brush's radius in preview pixels: the size slider is screen pixels across.
  imageRadius() {
    const rect = this.canvas.getBoundingClientRect();
    const lay = this.frozen ?? this.lay;
    const perCanvas = lay ? lay.source[2] / lay.box[2] : 1;
    return Math.max(0.5 / this.scale[0], ($("brush-size").valueAsNumber / 2) * (this.canvas.width / rect.width) * perCanvas);
  }

  strokeStart(event) {
    if (this.strokes.length >= MAX_STROKES) {
      this.warn(`An image keeps at most ${MAX_STROKES} strokes. Reset to the AI result or undo some first.`);
      return;
    }
    this.frozen = this.lay; // the crop must not move under the brush while it paints
    const hardness = 1 - $("brush-soft").valueAsNumber / 100;
    this.live = this.touch.begin(this.tool, this.imageRadius(), hardness, this.toImage(event));
    this.moveCursor(event);
    this.scheduleDraw();
  }

  strokeMove(event) {
    this.moveCursor(event);
    if (!this.live) return;
    const point = this.toImage(event);
    const last = this.live.points[this.live.points.length - 1];
    // Points closer than a quarter of the radius add nothing a person could see.
    if (Math.hypot(point[0] - last[0], point[1] - last[1]) < Math.max(0.5, this.live.radius / 4)) return;
    if (this.live.points.length >= MAX_POINTS_PER_STROKE) return;
    this.touch.extendTo(point);
    this.scheduleDraw();
  }

  strokeEnd() {
    if (!this.live) return;
    const stroke = this.touch.end();
    this.live = null;
    this.frozen = null;
    const total = this.strokes.reduce((n, s) => n + s.points.length, stroke.points.length);
    if (total > MAX_POINTS) {
      this.touch.replay(this.strokes); // this stroke is not kept
      this.warn("This image has as many touch-ups as it can keep. Reset to the AI result or undo some first.");
      this.render();
      return;
    }
    this.commit([...this.strokes, stroke]);
    this.announce(stroke.mode === "erase" ? "Erased." : "Restored.");
  }

  strokeCancel() {
    if (!this.live) return;
    this.touch.cancel();
    this.live = null;
    this.frozen = null;
    this.scheduleDraw();
  }

  showCursorSize() {
    const size = $("brush-size").valueAsNumber;
    this.cursor.style.width = `${size}px`;
    this.cursor.style.height = `${size}px`;
  }

  moveCursor(event) {
    if (!event) {
      this.cursor.hidden = true;
      return;
    }
    const stage = $("stage").getBoundingClientRect();
    this.showCursorSize();
    this.cursor.style.left = `${event.clientX - stage.left}px`;
    this.cursor.style.top = `${event.clientY - stage.top}px`;
    this.cursor.classList.toggle("is-restore", this.tool === "restore");
    this.cursor.hidden = false;
  }

  // --- History and saving --------------------------------------------------------------

  commit(strokes) {
    this.undoStack.push(this.strokes);
    this.redoStack = [];
    this.strokes = strokes;
    this.changed();
  }

  undo() {
    if (!this.undoStack.length || this.live) return;
    this.redoStack.push(this.strokes);
    this.strokes = this.undoStack.pop();
    this.touch.replay(this.strokes);
    this.changed();
    this.announce("Undone.");
  }

  redo() {
    if (!this.redoStack.length || this.live) return;
    this.undoStack.push(this.strokes);
    this.strokes = this.redoStack.pop();
    this.touch.replay(this.strokes);
    this.changed();
    this.announce("Redone.");
  }

  resetEdit() {
    if (!this.strokes.length) return;
    this.commit([]);
    this.touch.replay([]);
    this.render();
    this.announce("Back to the AI result. Undo brings your touch-ups back.");
  }

  changed() {
    this.refreshHistory();
    this.render();
    this.scheduleSave();
  }

  refreshHistory() {
    $("undo").disabled = !this.undoStack.length;
    $("redo").disabled = !this.redoStack.length;
    $("reset-edit").disabled = !this.strokes.length;
  }

  fromServer(s) {
    const [sx, sy] = this.scale;
    return { mode: s.mode, radius: s.radius / ((sx + sy) / 2), hardness: s.hardness, points: s.points.map(([x, y]) => [x / sx, y / sy]) };
  }

  toServer(s) {
    const [sx, sy] = this.scale;
    const [fw, fh] = this.job.full_size;
    return {
      mode: s.mode,
      radius: round2(clamp(s.radius * ((sx + sy) / 2), 0.5, Math.max(fw, fh) / 2)),
      hardness: round2(s.hardness),
      points: s.points.map(([x, y]) => [round2(clamp(x * sx, 0, fw)), round2(clamp(y * sy, 0, fh))]),
    };
  }

  scheduleSave() {
    this.pending = true;
    this.status("Saving…");
    clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => this.flush(), SAVE_DELAY_MS);
  }

  // Sends the strokes if they changed; resolves once the server has every change.
  flush() {
    clearTimeout(this.saveTimer);
    if (!this.pending) return this.saving ?? Promise.resolve();
    this.pending = false;
    const job = this.job;
    const strokes = this.strokes.map((s) => this.toServer(s));
    const save = (this.saving ?? Promise.resolve())
      .then(() => this.api.saveEdit(job, strokes))
      .then(
        (state) => {
          if (job !== this.job) return;
          this.revision = state.revision;
          this.status(strokes.length ? "Saved with this image." : "Showing the AI result.");
          this.refreshDownload();
        },
        (error) => {
          if (job !== this.job) return;
          this.pending = true; // tried again with the next change or download
          this.status("Not saved.");
          this.warn(error.message);
        },
      )
      .finally(() => {
        if (this.saving === save) this.saving = null;
      });
    this.saving = save;
    return save;
  }

  get unsaved() {
    return this.pending || this.saving !== null;
  }

  // A click on a download link while strokes are still on their way: save first, then follow it.
  async afterSaving(event, link, follow = () => link.click()) {
    if (link.dataset.saved === "1") {
      delete link.dataset.saved;
      return;
    }
    if (!this.unsaved) return;
    event.preventDefault();
    await this.flush();
    link.dataset.saved = "1";
    follow();
  }

  // --- Downloads -----------------------------------------------------------------------

  refreshDownload() {
    if (!this.job) return;
    const choice = this.choice;
    this.download.href = downloadHref(this.job, choice);
    $("download-label").textContent = choice.format === "mask" ? "Download mask" : `Download ${choice.format.toUpperCase()}`;
    $("format-note").textContent = describeFormat(choice.background, choice.format);
    $("cap-note").replaceChildren(capNote(this.job, this.loginUrl));
    this.onChange();
  }

  async clientDownload(event) {
    const background = this.background;
    const format = this.format;
    if (!needsClientComposite(background, format)) {
      await this.afterSaving(event, this.download);
      return;
    }
    event.preventDefault();
    if (this.download.getAttribute("aria-disabled") === "true") return; // one at a time
    this.download.setAttribute("aria-disabled", "true");
    try {
      await this.flush();
      await downloadOverScene(this.job, background.image, background.focus, this.choice);
    } catch (error) {
      this.warn(error.message);
    } finally {
      this.download.removeAttribute("aria-disabled");
    }
  }
}
