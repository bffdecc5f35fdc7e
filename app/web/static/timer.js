// The talk countdown for the projector. No network: everything it needs is in the page.
// Keys: Space starts or pauses, N / ArrowRight next talk, P / ArrowLeft previous, R resets.
(() => {
  "use strict";
  const root = document.getElementById("timer");
  if (!root) return;
  const talks = Array.from(document.querySelectorAll("#talks li"));
  const total = Number(root.dataset.talkSeconds);
  const clock = document.getElementById("clock");
  const state = document.getElementById("state");
  let index = 0;
  let remaining = total;
  let endsAt = null; // performance.now() deadline while running
  let ticker = null;
  let started = false; // since the talk was shown or reset

  const format = (seconds) => {
    const sign = seconds < 0 ? "−" : "";
    const s = Math.abs(Math.round(seconds));
    return `${sign}${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
  };

  const paint = () => {
    clock.textContent = format(remaining);
    const phase = remaining <= 0 ? "over" : remaining <= 60 ? "last-minute" : remaining <= 120 ? "warning" : "normal";
    clock.dataset.phase = phase;
    clock.dataset.state = endsAt !== null ? "running" : started ? "paused" : "ready";
    state.textContent = endsAt !== null ? (remaining <= 0 ? "Time is up" : "Running") : started ? "Paused" : "Ready";
  };

  const tick = () => {
    if (endsAt !== null) remaining = (endsAt - performance.now()) / 1000;
    paint();
  };

  const start = () => {
    started = true;
    endsAt = performance.now() + remaining * 1000;
    ticker = setInterval(tick, 200);
    tick();
  };

  const pause = () => {
    tick();
    endsAt = null;
    clearInterval(ticker);
    remaining = Math.round(remaining);
    paint();
  };

  const show = (next) => {
    if (next < 0 || next >= talks.length) return;
    if (endsAt !== null) pause();
    index = next;
    remaining = total;
    started = false;
    const talk = talks[index].dataset;
    document.getElementById("talk-index").textContent = String(index + 1);
    document.getElementById("talk-group").textContent = talk.group;
    document.getElementById("talk-topic").textContent = talk.topic;
    document.getElementById("talk-speakers").textContent = talk.speakers;
    paint();
  };

  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const key = event.key.toLowerCase();
    if (key === " " || key === "spacebar") {
      event.preventDefault();
      if (endsAt === null) start(); else pause();
    } else if (key === "n" || key === "arrowright") {
      show(index + 1);
    } else if (key === "p" || key === "arrowleft") {
      show(index - 1);
    } else if (key === "r") {
      if (endsAt !== null) pause();
      remaining = total;
      started = false;
      paint();
    }
  });
  paint();
})();
