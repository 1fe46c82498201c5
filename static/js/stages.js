// Human words for the worker's stages, shown on each file's card and in the ID photo mode.

const WORDS = {
  uploading: "Uploading",
  queued: "Waiting in line",
  decoding: "Reading the image",
  detecting: "Finding the face", // ID photos: detecting, segmenting, refining, framing, checking
  segmenting: "Finding the subject",
  refining: "Refining edges and hair",
  framing: "Framing to the document's rules",
  checking: "Checking the rules",
  compositing: "Finishing",
  done: "Ready",
};

export const FINISHED = new Set(["done", "error"]);

export function describeStage({ stage, progress, position, error }) {
  if (stage === "error") return error || "This image couldn't be processed.";
  if (stage === "done") return WORDS.done;
  if (stage === "queued") {
    return position > 1 ? `${WORDS.queued}: ${position - 1} ahead of this one` : `${WORDS.queued}: next up`;
  }
  const words = WORDS[stage] || "Working";
  return Number.isFinite(progress) ? `${words}… ${Math.round(progress)}%` : `${words}…`;
}
