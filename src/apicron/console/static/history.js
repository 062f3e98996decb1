// Execution history: re-fetch the rows every 3 s while the page is visible, keeping
// expanded attempts open.
"use strict";

(function () {
  const table = document.getElementById("history");
  if (!table) return;
  const url = table.dataset.rowsUrl;

  async function refresh() {
    if (document.hidden) return;
    const open = new Set(
      Array.from(table.querySelectorAll("details[open]")).map(function (d) { return d.dataset.id; })
    );
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } });
      if (!response.ok || response.redirected) return;
      const holder = document.createElement("table");
      holder.innerHTML = await response.text();
      const rows = holder.querySelector("tbody");
      if (!rows) return;
      rows.querySelectorAll("details").forEach(function (d) {
        if (open.has(d.dataset.id)) d.open = true;
      });
      table.querySelector("tbody").replaceWith(rows);
    } catch (e) { /* the next tick tries again */ }
  }

  setInterval(refresh, 3000);
})();
