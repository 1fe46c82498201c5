// Every way a photo can arrive: file picker, phone camera, drag and drop anywhere on the page,
// and pasting from the clipboard. All of them end in onFiles(File[]).

// Clipboard images are all called "image.png"; the time of day tells several apart.
function pastedName(type) {
  const time = new Date().toTimeString().slice(0, 8).replace(/:/g, "");
  return `pasted-${time}.${(type.split("/")[1] || "png").replace("jpeg", "jpg")}`;
}

function hasFiles(event) {
  return Array.from(event.dataTransfer?.types || []).includes("Files");
}

// Each mode of the page listens on the whole document: only the one on screen takes the file.
function shown(element) {
  return element.getClientRects().length > 0;
}

export function collectImages({ dropzone, pickButton, fileInput, cameraButton, cameraInput }, onFiles) {
  const fromInput = (input) => {
    const files = Array.from(input.files || []);
    input.value = "";
    if (files.length) onFiles(files);
  };
  pickButton.addEventListener("click", () => fileInput.click());
  cameraButton.addEventListener("click", () => cameraInput.click());
  fileInput.addEventListener("change", () => fromInput(fileInput));
  cameraInput.addEventListener("change", () => fromInput(cameraInput));

  // Dropping anywhere is accepted: a near miss must not make the browser open the image instead.
  let depth = 0;
  document.addEventListener("dragenter", (event) => {
    if (!hasFiles(event) || !shown(dropzone)) return;
    depth += 1;
    dropzone.classList.add("is-dragging");
  });
  document.addEventListener("dragleave", (event) => {
    if (!hasFiles(event)) return;
    depth = Math.max(0, depth - 1);
    if (depth === 0) dropzone.classList.remove("is-dragging");
  });
  document.addEventListener("dragover", (event) => {
    if (!hasFiles(event) || !shown(dropzone)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });
  document.addEventListener("drop", (event) => {
    if (!hasFiles(event) || !shown(dropzone)) return;
    event.preventDefault();
    depth = 0;
    dropzone.classList.remove("is-dragging");
    const files = Array.from(event.dataTransfer.files);
    if (files.length) onFiles(files);
  });

  document.addEventListener("paste", (event) => {
    if (!shown(dropzone)) return;
    const files = Array.from(event.clipboardData?.items || [])
      .filter((item) => item.kind === "file")
      .map((item) => item.getAsFile())
      .filter(Boolean)
      .map((file) => (file.name && file.name !== "image.png" ? file : new File([file], pastedName(file.type), { type: file.type })));
    if (!files.length) return;
    event.preventDefault();
    onFiles(files);
  });
}
