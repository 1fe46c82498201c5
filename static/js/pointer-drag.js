// Follows one pointer (mouse, pen or finger) from pointerdown until it is released. Pointer
// capture keeps the drag going when it leaves the element.

export function trackPointer(event, onMove) {
  event.preventDefault();
  const target = event.currentTarget;
  target.setPointerCapture(event.pointerId);
  const end = () => {
    target.removeEventListener("pointermove", onMove);
    target.removeEventListener("pointerup", end);
    target.removeEventListener("pointercancel", end);
  };
  target.addEventListener("pointermove", onMove);
  target.addEventListener("pointerup", end);
  target.addEventListener("pointercancel", end);
}

// Like trackPointer, reporting how far the pointer moved since the last event.
export function trackPointerDelta(event, onDelta) {
  let x = event.clientX;
  let y = event.clientY;
  trackPointer(event, (e) => {
    onDelta(e.clientX - x, e.clientY - y);
    x = e.clientX;
    y = e.clientY;
  });
}
