// Remembers this tab's jobs (id and file name) and the one being edited in sessionStorage,
// so a reload re-attaches to them.

const KEY = "clearcut.jobs";
const SELECTED_KEY = "clearcut.selected";

function read() {
  try {
    const list = JSON.parse(sessionStorage.getItem(KEY) || "[]");
    return Array.isArray(list) ? list : [];
  } catch {
    return [];
  }
}

function write(key, value) {
  try {
    sessionStorage.setItem(key, value);
  } catch {
    // Private browsing can refuse storage; the page still works, it just won't survive a reload.
  }
}

export const jobStore = {
  all: read,
  add(id, name) {
    write(KEY, JSON.stringify([...read().filter((job) => job.id !== id), { id, name }]));
  },
  remove(id) {
    write(KEY, JSON.stringify(read().filter((job) => job.id !== id)));
  },
  // The job open in the editor, reopened after a reload.
  select(id) {
    write(SELECTED_KEY, id);
  },
  selected() {
    return sessionStorage.getItem(SELECTED_KEY);
  },
};
