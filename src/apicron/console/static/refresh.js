// Self-refreshing parts of a page: an element with data-refresh-url is replaced by what
// that URL answers every data-refresh-ms (default 5000) while the page is visible.
"use strict";

(function () {
  document.querySelectorAll("[data-refresh-url]").forEach(function (holder) {
    const url = holder.dataset.refreshUrl;
    const every = parseInt(holder.dataset.refreshMs || "5000", 10);
    async function refresh() {
      if (document.hidden) return;
      // Keep what the user is doing: no swap while focus is inside.
      if (holder.contains(document.activeElement) && document.activeElement !== document.body) return;
      // A confirm dialog answers a form inside: it must still be there when confirmed.
      if (document.querySelector("dialog[open]")) return;
      try {
        const response = await fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } });
        if (!response.ok || response.redirected) return;
        holder.innerHTML = await response.text();
        holder.dataset.refreshedAt = new Date().toISOString();
        document.dispatchEvent(new CustomEvent("apicron:refreshed", { detail: holder }));
      } catch (e) { /* the next tick tries again */ }
    }
    setInterval(refresh, every);
  });
})();
