// Small conveniences only; every page works without JavaScript.
document.addEventListener("DOMContentLoaded", () => {
  // "Go back" on error pages.
  document.querySelectorAll("[data-back]").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", () => history.back());
  });
  // Filter checkboxes apply at once (the Apply button stays for keyboard and no-JS use).
  document.querySelectorAll("form[data-autosubmit]").forEach((form) => {
    form.addEventListener("change", () => form.requestSubmit());
  });
  // Ask before irreversible actions.
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
});
