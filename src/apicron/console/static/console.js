// apicron console: confirm dialogs for forms marked data-confirm, and copy buttons.
"use strict";

(function () {
  const dialog = document.getElementById("confirm-dialog");

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirm || !dialog) return;
    if (form.dataset.confirmed === "yes") return;
    event.preventDefault();
    document.getElementById("confirm-text").textContent = form.dataset.confirm;
    dialog.returnValue = "";
    dialog.onclose = function () {
      if (dialog.returnValue === "yes") {
        form.dataset.confirmed = "yes";
        form.requestSubmit();
      }
    };
    dialog.showModal();
    document.getElementById("confirm-yes").focus();
  });

  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-copy]");
    if (!button) return;
    const source = document.querySelector(button.dataset.copy);
    if (!source) return;
    const text = source.textContent.trim();
    const done = function () { button.textContent = "Copied"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { selectText(source); });
    } else {
      selectText(source);
      try { document.execCommand("copy"); done(); } catch (e) { /* the text stays selected */ }
    }
  });

  // After a refused form: bring the first field-level error into view, its input focused.
  const firstError = document.querySelector(".field-error");
  if (firstError) {
    const holder = firstError.closest(".field, .form-section");
    const input = holder && holder.querySelector("input:not([type=hidden]), select, textarea");
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-errormessage", firstError.id);
      input.focus();
    }
    firstError.scrollIntoView({ block: "center" });
  }

  function selectText(node) {
    const range = document.createRange();
    range.selectNodeContents(node);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
})();

// Narrow screens show each table row as a card: every cell needs its column's name
// (data-label). Templates give it on some tables; the rest get their headings' text,
// also for rows a refresh or a script adds later.
(function () {
  function label(root) {
    root.querySelectorAll("table.grid").forEach(function (table) {
      const names = Array.from(table.querySelectorAll("thead th")).map(function (th) {
        return th.textContent.trim();
      });
      if (!names.length) return;
      table.querySelectorAll("tbody tr").forEach(function (row) {
        Array.from(row.children).forEach(function (cell, i) {
          if (cell.tagName === "TD" && !cell.hasAttribute("data-label") && names[i]) {
            cell.setAttribute("data-label", names[i]);
          }
        });
      });
    });
  }
  label(document);
  new MutationObserver(function () { label(document); })
    .observe(document.body, { childList: true, subtree: true });
})();
