// The result view of one finished job: before/after preview, background swap (all in the
// browser, the model never runs again), zoom, and the download button with its size note.

import { blurredCopy, coverRect, paint } from "./backdrops.js";
import { CompareSlider } from "./compare-slider.js";
import { capNote, describeFormat, downloadHref, downloadOverScene, needsClientComposite } from "./downloads.js";
import { StageView } from "./stage-view.js";

const $ = (id) => document.getElementById(id);

function loadImage(src) {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.decoding = "async";
    image.addEventListener("load", () => resolve(image));
    image.addEventListener("error", () => reject(new Error(`Could not load ${src}`)));
    image.src = src;
  });
}

export class Editor {
  constructor({ loginUrl, onDelete, onChange, announce }) {
    this.loginUrl = loginUrl;
    this.onChange = onChange;
    this.announce = announce;
    this.notice = $("editor-notice");
    this.section = $("editor");
    this.canvas = $("after-canvas");
    this.beforeImg = $("before-img");
    this.download = $("download");
    this.job = null; // the job shown
    this.opening = null; // the job shown or being loaded: the editor is in use while set
    this.cutout = null;
    this.original = null;
    this.blurred = null;
    this.scene = null;
    this.focus = [0.5, 0.5];
    this.colour = document.querySelector('input[name="colour"]:checked').value;

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

  get backgroundKind() {
    return document.querySelector('input[name="bg"]:checked').value;
  }

  get format() {
    return document.querySelector('input[name="format"]:checked').value;
  }

  // The chosen background and format without pixels: all a download link needs.
  get choice() {
    const kind = this.backgroundKind;
    return { background: kind === "colour" ? { kind, hex: this.colour } : { kind }, format: this.format };
  }

  // What the preview shows now; a "Photo" choice without a photo yet shows transparency.
  get background() {
    const kind = this.backgroundKind;
    if (kind === "colour") return { kind, hex: this.colour };
    if (kind === "scene" && this.scene) return { kind, image: this.scene, focus: this.focus };
    if (kind === "blur") {
      this.blurred ??= blurredCopy(this.original, this.canvas.width, this.canvas.height);
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
    const clamp = (v) => Math.min(Math.max(v, 0), 1);
    this.focus = [
      spareX > 0 ? clamp(this.focus[0] - (dx * width) / spareX) : 0.5,
      spareY > 0 ? clamp(this.focus[1] - (dy * height) / spareY) : 0.5,
    ];
    $("scene-x").value = String(Math.round(this.focus[0] * 100));
    $("scene-y").value = String(Math.round(this.focus[1] * 100));
    this.render();
  }

  // Rejects when the previews can't be loaded; the editor then keeps what it showed before.
  async open(job) {
    this.opening = job;
    if (this.job?.id !== job.id) {
      let cutout, original;
      try {
        [cutout, original] = await Promise.all([loadImage(job.urls.preview), loadImage(job.urls.original)]);
      } catch (error) {
        if (this.opening === job) this.opening = this.job;
        throw error;
      }
      if (this.opening !== job) return; // another job was opened while these loaded
      this.cutout = cutout;
      this.original = original;
      this.blurred = null;
      this.beforeImg.src = original.src;
      this.canvas.width = cutout.naturalWidth;
      this.canvas.height = cutout.naturalHeight;
      $("editor-name").textContent = job.name ? `· ${job.name}` : "";
      const expires = new Date(job.expires_at).toLocaleString([], { weekday: "short", hour: "2-digit", minute: "2-digit" });
      $("expiry-note").textContent = `Otherwise kept until ${expires}, then deleted automatically.`;
      this.slider.set(50);
    }
    this.job = job;
    this.section.hidden = false;
    this.view.setImageSize(this.canvas.width, this.canvas.height);
    this.render();
  }

  close() {
    this.job = null;
    this.opening = null;
    this.section.hidden = true;
  }

  warn(message) {
    this.notice.textContent = message;
    this.notice.hidden = !message;
  }

  render() {
    if (!this.cutout) return;
    this.warn("");
    const kind = this.backgroundKind;
    $("colour-options").hidden = kind !== "colour";
    $("scene-options").hidden = kind !== "scene";
    $("scene-position").hidden = !(kind === "scene" && this.scene);
    this.view.setSceneMover(kind === "scene" && this.scene ? (dx, dy) => this.moveScene(dx, dy) : null);
    paint(this.canvas, this.cutout, this.background);
    this.refreshDownload();
  }

  refreshDownload() {
    if (!this.job) return;
    const { background, format } = this;
    this.download.href = downloadHref(this.job, background, format);
    $("download-label").textContent = format === "mask" ? "Download mask" : `Download ${format.toUpperCase()}`;
    $("format-note").textContent = describeFormat(background, format);
    $("cap-note").replaceChildren(capNote(this.job, this.loginUrl));
    this.onChange();
  }

  async clientDownload(event) {
    const { background, format } = this;
    if (!needsClientComposite(background, format)) return;
    event.preventDefault();
    if (this.download.getAttribute("aria-disabled") === "true") return; // one at a time
    this.download.setAttribute("aria-disabled", "true");
    try {
      await downloadOverScene(this.job, background.image, background.focus, format);
    } catch (error) {
      this.warn(error.message);
    } finally {
      this.download.removeAttribute("aria-disabled");
    }
  }
}
