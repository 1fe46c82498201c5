// One polite live region (#announcer) for the whole page: both modes tell screen reader users
// what finished or failed through it.

export function announce(text) {
  const announcer = document.getElementById("announcer");
  // Clearing first makes screen readers repeat a message identical to the last one.
  announcer.textContent = "";
  requestAnimationFrame(() => {
    announcer.textContent = text;
  });
}
