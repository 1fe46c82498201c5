// The JSON API of issue 3, as the page uses it. Every error becomes an ApiError whose message
// is the server's own human sentence ({"error": "..."}), so the page can show it as is.

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

const csrfToken = () => document.querySelector('meta[name="csrf-token"]').content;

function fallbackMessage(status) {
  if (status === 413) return "This file is larger than the server accepts.";
  if (status === 429) return "You've reached today's limit. Please try again tomorrow.";
  if (status >= 500) return "Something went wrong on the server. Please try again.";
  return `The server refused this request (HTTP ${status}).`;
}

function errorFrom(status, body) {
  return new ApiError(body && typeof body.error === "string" ? body.error : fallbackMessage(status), status);
}

async function request(url, options = {}) {
  let response;
  try {
    response = await fetch(url, {
      credentials: "same-origin",
      ...options,
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken(), ...(options.headers || {}) },
    });
  } catch {
    throw new ApiError("Can't reach the server. Check your connection and try again.", 0);
  }
  const body = response.status === 204 ? {} : await response.json().catch(() => null);
  if (!response.ok) throw errorFrom(response.status, body);
  return body;
}

export class Api {
  constructor(jobsUrl) {
    this.jobsUrl = jobsUrl.replace(/\/$/, "");
  }

  jobUrl(id) {
    return `${this.jobsUrl}/${encodeURIComponent(id)}`;
  }

  // XMLHttpRequest rather than fetch: only it reports upload progress, which matters for
  // 25 MB photos on a phone connection.
  // `signal` (an AbortSignal) cancels the upload; the promise then rejects with status 0.
  createJob(file, fields, onProgress, signal) {
    const form = new FormData();
    form.append("image", file, file.name);
    for (const [key, value] of Object.entries(fields)) form.append(key, value);
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", this.jobsUrl);
      xhr.responseType = "json";
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-CSRFToken", csrfToken());
      xhr.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) onProgress(Math.round((100 * event.loaded) / event.total));
      });
      xhr.addEventListener("load", () => {
        if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.response);
        else reject(errorFrom(xhr.status, xhr.response));
      });
      xhr.addEventListener("error", () =>
        reject(new ApiError("The upload was interrupted. Check your connection and try again.", 0)),
      );
      xhr.addEventListener("abort", () => reject(new ApiError("The upload was cancelled.", 0)));
      signal.addEventListener("abort", () => xhr.abort());
      xhr.send(form);
    });
  }

  getJob(id) {
    return request(this.jobUrl(id));
  }

  deleteJob(id) {
    return request(this.jobUrl(id), { method: "DELETE" });
  }

  // The job's touch-up edit (remover/web/edit_api.py): {revision, strokes}.
  getEdit(job) {
    return request(job.urls.edit);
  }

  saveEdit(job, strokes) {
    return request(job.urls.edit, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ strokes }),
    });
  }
}
