// The mode switch above the upload area: "Remove background" or "Passport / ID photo". Each
// mode is a plain link with its own address (?mode=idphoto), rendered by the server; here a
// click only swaps the panels, so uploads and progress in the other mode carry on.

const links = [...document.querySelectorAll(".mode-switch__link")];
const panels = [...document.querySelectorAll(".mode-panel")];

function show(mode) {
  for (const panel of panels) panel.hidden = panel.dataset.mode !== mode;
  for (const link of links) {
    if (link.dataset.mode === mode) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

// Signing in comes back to the mode the visitor is in.
function updateSignInLinks() {
  const here = window.location.pathname + window.location.search;
  for (const link of document.querySelectorAll(".account a[href*='next=']")) {
    const url = new URL(link.href);
    url.searchParams.set("next", here);
    link.href = url.pathname + url.search;
  }
}

function modeOf(url) {
  return new URL(url, window.location.href).searchParams.get("mode") === "idphoto" ? "idphoto" : "cutout";
}

for (const link of links) {
  link.addEventListener("click", (event) => {
    // A new tab or window (modifier keys, middle click) is the browser's business.
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    if (link.getAttribute("aria-current") === "page") return;
    history.pushState(null, "", link.href);
    show(link.dataset.mode);
    updateSignInLinks();
  });
}
window.addEventListener("popstate", () => {
  show(modeOf(window.location.href));
  updateSignInLinks();
});
