// Small conveniences only; every page works without JavaScript.
document.addEventListener("DOMContentLoaded", () => {
  // "Go back" on error pages.
  document.querySelectorAll("[data-back]").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", () => history.back());
  });
  document.querySelectorAll("[data-print]").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  });
  // Ask before irreversible actions.
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
  // Deadlines also in the reader's own time zone, and a countdown.
  localize(document);
  const countdowns = document.querySelectorAll("[data-countdown]");
  const tick = () => countdowns.forEach((el) => {
    const left = Math.floor((new Date(el.dataset.countdown) - Date.now()) / 1000);
    if (left <= 0) { el.textContent = "the deadline has passed"; return; }
    const d = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600), m = Math.floor(left % 3600 / 60);
    el.textContent = d ? `${d} d ${h} h ${m} min` : h ? `${h} h ${m} min` : `${m} min ${left % 60} s`;
  });
  if (countdowns.length) { tick(); setInterval(tick, 30000); }
  document.querySelectorAll("form[data-upload]").forEach(enhanceUpload);
});

// Deadlines also in the reader's own time zone, written as the server writes times: 2026-11-01 16:59 (UTC+01:00).
function localize(root) {
  const two = (n) => String(n).padStart(2, "0");
  root.querySelectorAll("[data-local-time]").forEach((el) => {
    const t = new Date(el.dataset.localTime);
    const offset = -t.getTimezoneOffset();
    const zone = `UTC${offset < 0 ? "-" : "+"}${two(Math.floor(Math.abs(offset) / 60))}:${two(Math.abs(offset) % 60)}`;
    const when = `${t.getFullYear()}-${two(t.getMonth() + 1)}-${two(t.getDate())} ${two(t.getHours())}:${two(t.getMinutes())}`;
    el.textContent = `(your time: ${when} (${zone}))`;
  });
}

// Drag and drop onto the file field, the same limits as the server checked first, and a progress bar.
function enhanceUpload(form) {
  const input = form.querySelector("input[type=file]");
  const drop = form.querySelector("[data-drop]");
  const error = form.querySelector("[data-error]");
  const bar = form.querySelector("progress");
  const maxBytes = Number(form.dataset.maxBytes);
  const fail = (message) => {
    error.textContent = message; error.hidden = false; input.setAttribute("aria-invalid", "true");
    bar.hidden = true; form.querySelectorAll("button").forEach((b) => { b.disabled = false; });
  };
  ["dragenter", "dragover"].forEach((type) => drop.addEventListener(type, (event) => {
    event.preventDefault(); drop.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((type) => drop.addEventListener(type, () => drop.classList.remove("over")));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    if (event.dataTransfer.files.length) input.files = event.dataTransfer.files;
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const file = input.files[0];
    if (!file) return fail("Choose a PDF file first, or drop it on the field.");
    if (file.size === 0) return fail("The file is empty.");
    if (file.size > maxBytes) return fail(`The file is larger than ${maxBytes / 1048576} MiB.`);
    if (!/\.pdf$/i.test(file.name) && file.type !== "application/pdf") return fail("Only PDF files are accepted.");
    const action = (event.submitter && event.submitter.getAttribute("formaction")) || form.action;
    const data = new FormData();
    data.append("file", file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", action);
    xhr.upload.addEventListener("progress", (p) => { if (p.lengthComputable) bar.value = 100 * p.loaded / p.total; });
    xhr.addEventListener("load", () => {
      const section = form.closest("section");
      if (xhr.status < 400 && new URL(xhr.responseURL).pathname !== new URL(action, location.href).pathname) {
        // Stored (the server sent the browser to the group's page), or the session ended (the login form).
        const target = xhr.responseURL + (xhr.responseURL.includes("/login") ? "" : `#${section.id}`);
        if (target.split("#")[0] === location.href.split("#")[0]) {
          location.hash = section.id;
          location.reload();  // the same address: only a reload shows the new version
        } else {
          location.assign(target);
        }
        return;
      }
      const page = new DOMParser().parseFromString(xhr.responseText, "text/html");
      const message = page.getElementById(error.id);
      if (xhr.status >= 400 && message && message.textContent.trim()) return fail(message.textContent.trim());
      const fresh = page.getElementById(section.id);
      if (xhr.status >= 400 || !fresh) return fail(`The server refused the file (status ${xhr.status}).`);
      // A check without submitting: show its report in place of this milestone's part of the page.
      section.replaceWith(fresh);
      localize(fresh);
      fresh.querySelectorAll("form[data-upload]").forEach(enhanceUpload);
      const result = fresh.querySelector(".check-result");
      if (result) { result.tabIndex = -1; result.focus(); }
    });
    xhr.addEventListener("error", () => fail("The upload failed: the connection was lost. Try again."));
    error.hidden = true; bar.hidden = false; bar.value = 0;
    form.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    xhr.send(data);
  });
}
