// One file's card in "Your images": thumbnail, name, stage in words and a progress bar.

import { describeStage } from "./stages.js";

export class JobCard {
  constructor(template, name, { onOpen, onDelete }) {
    this.el = template.content.firstElementChild.cloneNode(true);
    this.name = name;
    this.img = this.el.querySelector(".job-card__img");
    this.status = this.el.querySelector(".job-card__status");
    this.bar = this.el.querySelector(".progress");
    this.fill = this.el.querySelector(".progress__fill");
    this.openButton = this.el.querySelector(".job-card__open");
    this.deleteButton = this.el.querySelector(".job-card__delete");

    this.el.querySelector(".job-card__name").textContent = name;
    this.bar.setAttribute("aria-label", `Progress for ${name}`);
    this.openButton.setAttribute("aria-label", `Edit and download ${name}`);
    this.deleteButton.setAttribute("aria-label", `Delete ${name}`);
    this.openButton.addEventListener("click", () => onOpen(this));
    this.deleteButton.addEventListener("click", () => onDelete(this));
    // HEIC and TIFF can't be shown by most browsers: keep the neutral placeholder then.
    this.img.addEventListener("error", () => {
      this.releaseLocalThumbnail();
      this.img.removeAttribute("src");
    });
  }

  // The first thumbnail is the local file (an object URL), replaced by the server's cut-out.
  setThumbnail(url) {
    this.releaseLocalThumbnail();
    if (url) this.img.src = url;
  }

  releaseLocalThumbnail() {
    if (this.img.src.startsWith("blob:")) URL.revokeObjectURL(this.img.src);
  }

  remove() {
    this.releaseLocalThumbnail();
    this.el.remove();
  }

  setProgress(percent) {
    const value = Math.max(0, Math.min(100, Math.round(percent || 0)));
    this.bar.setAttribute("aria-valuenow", String(value));
    this.fill.style.setProperty("--progress", String(value / 100));
  }

  // Before the server knows the job: waiting for its upload turn, or reconnecting after a reload.
  waiting(text) {
    this.el.dataset.state = "waiting";
    this.status.textContent = text;
    this.setProgress(0);
  }

  uploading(percent) {
    this.el.dataset.state = "uploading";
    this.status.textContent = describeStage({ stage: "uploading", progress: percent });
    this.setProgress(percent);
  }

  update(event) {
    this.el.dataset.state = event.stage;
    this.status.textContent = describeStage(event);
    this.setProgress(event.stage === "done" ? 100 : event.progress);
    this.openButton.hidden = event.stage !== "done";
  }

  fail(message) {
    this.update({ stage: "error", error: message });
  }

  setSelected(selected) {
    this.el.classList.toggle("is-selected", selected);
  }
}
