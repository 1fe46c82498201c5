// The before/after divider: an ARIA slider (0-100 = how much of the original shows) moved by
// dragging (mouse, pen, touch), clicking the picture, or the keyboard.

import { trackPointer } from "./pointer-drag.js";

const KEY_STEPS = { ArrowLeft: -2, ArrowDown: -2, ArrowRight: 2, ArrowUp: 2, PageDown: -10, PageUp: 10 };

export class CompareSlider {
  constructor(stage, divider) {
    this.stage = stage;
    this.divider = divider;
    this.value = 50;

    divider.addEventListener("keydown", (event) => {
      let next;
      if (event.key in KEY_STEPS) next = this.value + KEY_STEPS[event.key] * (event.shiftKey ? 5 : 1);
      else if (event.key === "Home") next = 0;
      else if (event.key === "End") next = 100;
      else return;
      event.preventDefault();
      this.set(next);
    });
    divider.addEventListener("pointerdown", (event) => {
      event.stopPropagation();
      this.drag(event);
    });
  }

  set(value) {
    this.value = Math.max(0, Math.min(100, Math.round(value * 10) / 10));
    const shown = Math.round(this.value);
    this.stage.style.setProperty("--split", String(this.value));
    this.divider.setAttribute("aria-valuenow", String(shown));
    this.divider.setAttribute("aria-valuetext", `${shown}% original, ${100 - shown}% result`);
  }

  setFromClientX(clientX) {
    const box = this.stage.getBoundingClientRect();
    this.set(((clientX - box.left) / box.width) * 100);
  }

  // Moves the line to the pointer and keeps following it until it is released.
  drag(event) {
    if (event.button !== 0) return;
    trackPointer(event, (e) => this.setFromClientX(e.clientX));
    this.divider.focus({ preventScroll: true });
    this.setFromClientX(event.clientX);
  }
}
