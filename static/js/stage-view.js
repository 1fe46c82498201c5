// Sizes the preview to fit the screen, zooms it (the viewport then scrolls, natively on touch),
// and decides what a drag on the picture does: move the before/after line, pan a zoomed view
// with the mouse, or move the user's background photo.

import { trackPointerDelta } from "./pointer-drag.js";

const ZOOMS = [1, 1.5, 2, 3, 4, 6, 8];

const HINTS = {
  compare: "Drag the line to compare",
  zoomed: "Drag or scroll to look around",
  scene: "Drag the picture to move your photo",
};

export class StageView {
  constructor({ viewport, stage, zoomIn, zoomOut, zoomFit, zoomLevel, hint }, slider) {
    Object.assign(this, { viewport, stage, zoomIn, zoomOut, zoomLevel, hint, slider });
    this.zoom = 1;
    this.aspect = 1;
    this.sceneMover = null;

    zoomIn.addEventListener("click", () => this.setZoom(ZOOMS.find((z) => z > this.zoom) ?? this.zoom));
    zoomOut.addEventListener("click", () => this.setZoom([...ZOOMS].reverse().find((z) => z < this.zoom) ?? 1));
    zoomFit.addEventListener("click", () => this.setZoom(1));
    stage.addEventListener("pointerdown", (event) => this.pointerDown(event));
    new ResizeObserver(() => this.layout()).observe(viewport.parentElement);
    window.addEventListener("resize", () => this.layout());
  }

  setImageSize(width, height) {
    this.aspect = width / height;
    this.setZoom(1);
  }

  // mover(dxFraction, dyFraction) receives drags as fractions of the picture; null turns it off.
  setSceneMover(mover) {
    this.sceneMover = mover;
    this.refreshMode();
  }

  layout() {
    const available = this.viewport.parentElement.clientWidth;
    if (!available) return;
    const maxHeight = Math.min(window.innerHeight * 0.7, 760);
    const fitWidth = Math.min(available, maxHeight * this.aspect);
    this.viewport.style.height = `${Math.round(fitWidth / this.aspect)}px`;
    this.stage.style.width = `${Math.round(fitWidth * this.zoom)}px`;
    this.stage.style.height = `${Math.round((fitWidth * this.zoom) / this.aspect)}px`;
  }

  setZoom(zoom) {
    // Keep the point at the centre of the view where it is.
    const view = this.viewport.getBoundingClientRect();
    const before = this.stage.getBoundingClientRect();
    const fx = before.width ? (view.left + view.width / 2 - before.left) / before.width : 0.5;
    const fy = before.height ? (view.top + view.height / 2 - before.top) / before.height : 0.5;
    this.zoom = zoom;
    this.layout();
    this.viewport.scrollLeft = fx * this.stage.offsetWidth - this.viewport.clientWidth / 2;
    this.viewport.scrollTop = fy * this.stage.offsetHeight - this.viewport.clientHeight / 2;

    this.zoomLevel.value = `${Math.round(zoom * 100)}%`;
    this.zoomOut.disabled = zoom === ZOOMS[0];
    this.zoomIn.disabled = zoom === ZOOMS[ZOOMS.length - 1];
    // A zoomed view is a scroll area: make it reachable with the keyboard to pan with arrow keys.
    if (zoom > 1) {
      this.viewport.tabIndex = 0;
      this.viewport.setAttribute("aria-label", "Zoomed preview; use the arrow keys to look around");
    } else {
      this.viewport.removeAttribute("tabindex");
      this.viewport.removeAttribute("aria-label");
    }
    this.refreshMode();
  }

  refreshMode() {
    const mode = this.sceneMover ? "scene" : this.zoom > 1 ? "zoomed" : "compare";
    this.stage.classList.toggle("is-zoomed", mode === "zoomed");
    this.stage.classList.toggle("is-moving-scene", mode === "scene");
    this.hint.textContent = HINTS[mode];
  }

  pointerDown(event) {
    if (event.button !== 0) return;
    if (this.sceneMover) {
      trackPointerDelta(event, (dx, dy) => this.sceneMover(dx / this.stage.offsetWidth, dy / this.stage.offsetHeight));
    } else if (this.zoom > 1) {
      // Touch pans natively (touch-action: auto); the mouse needs a hand.
      if (event.pointerType === "mouse") {
        trackPointerDelta(event, (dx, dy) => {
          this.viewport.scrollLeft -= dx;
          this.viewport.scrollTop -= dy;
        });
      }
    } else this.slider.drag(event);
  }
}
