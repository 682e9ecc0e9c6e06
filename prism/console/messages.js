// Messages on the page: every failure a person should know about, and the helpers that route failures there.

import { ApiError } from "./api.js";
import { el } from "./format.js";

let feedLive = false;

/** Whether the change feed is connected: while it is not, the banner already says the service is away. */
export function setFeedLive(live) {
  feedLive = live;
}

const MAX_MESSAGES = 6;

/** Show a message; the same text again counts up instead of stacking. Errors stay until dismissed. */
export function notify(level, text) {
  const box = document.getElementById("messages");
  const same = [...box.children].find((node) => node.dataset.text === text);
  if (same) {
    const count = same.querySelector(".repeat");
    count.textContent = `×${Number(count.textContent.slice(1) || 1) + 1}`;
    box.prepend(same);
    return;
  }
  const message = el(
    "div",
    { class: `message ${level}`, role: level === "error" ? "alert" : "status", "data-text": text },
    el("span", { class: "text", text }),
    el("span", { class: "repeat" }),
    el("button", { type: "button", class: "icon", "aria-label": "Dismiss", text: "✕", onclick: () => message.remove() }),
  );
  box.prepend(message);
  while (box.children.length > MAX_MESSAGES) box.lastElementChild.remove();
  if (level !== "error") setTimeout(() => message.remove(), 8000);
}

/** An API failure as a message; while the feed is down, a missing answer is what the banner already says. */
export function reportError(error) {
  if (error instanceof ApiError && error.status === 0 && !feedLive) return;
  notify("error", error.message);
  console.warn(error.message);
}

/** Run a task; a failure becomes a message, never a silent nothing. */
export async function attempt(task) {
  try {
    return await task();
  } catch (error) {
    reportError(error);
    return undefined;
  }
}

/** A refresh that runs at most once at a time; asked for while running, it runs once more afterwards. */
export function coalesced(task) {
  let running = null;
  let again = false;
  const run = async () => {
    if (running) {
      again = true;
      return running;
    }
    running = attempt(task);
    await running;
    running = null;
    if (again) {
      again = false;
      await run();
    }
  };
  return run;
}

/** Disable a button while its request runs; a failure becomes a message. */
export async function busy(button, task) {
  button.disabled = true;
  button.classList.add("busy");
  try {
    await attempt(task);
  } finally {
    button.disabled = false;
    button.classList.remove("busy");
  }
}
