// Follows one job's progress over its WebSocket (/ws/jobs/<id>/). The server sends the current
// state on connect, so reconnecting after a drop (or a page reload) simply picks up where it is.
// While the socket is down the job's JSON is polled, so a blocked WebSocket never leaves a card stuck.

import { FINISHED } from "./stages.js";

const RETRY_MS = [500, 1000, 2000, 4000, 8000];

function socketUrl(path) {
  const url = new URL(path, window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}

export function followJob(wsPath, { onEvent, onGone, poll }) {
  let socket = null;
  let attempts = 0;
  let timer = null;
  let stopped = false;

  const deliver = (event) => {
    if (stopped) return;
    onEvent(event);
    if (FINISHED.has(event.stage)) stop();
  };

  function connect() {
    socket = new WebSocket(socketUrl(wsPath));
    socket.addEventListener("open", () => {
      attempts = 0;
    });
    socket.addEventListener("message", (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return; // a malformed frame is skipped: the next one carries the full state again
      }
      deliver(event);
    });
    socket.addEventListener("close", (event) => {
      if (stopped) return;
      // 4xxx close codes are the server saying "no such job for you": retrying won't help.
      if (event.code >= 4000 && event.code < 5000) {
        stop();
        onGone();
        return;
      }
      const delay = RETRY_MS[Math.min(attempts, RETRY_MS.length - 1)];
      attempts += 1;
      timer = setTimeout(() => {
        poll().then(deliver, (error) => {
          // The handshake of a job that isn't ours (or no longer exists) fails like a network
          // error; the JSON endpoint tells the two apart with its 404.
          if (error.status === 404 && !stopped) {
            stop();
            onGone();
          }
        });
        if (!stopped) connect();
      }, delay);
    });
  }

  function stop() {
    stopped = true;
    clearTimeout(timer);
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close(1000);
  }

  connect();
  return { stop };
}
