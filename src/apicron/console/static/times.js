// Times as the reader chose (issue 15): in each task's zone, in UTC or in this browser's
// zone, remembered in localStorage. A <time class="moment"> shows how long ago or how
// soon ("in 4 s", "3 min ago") with the exact time on hover, or with data-show="exact"
// the exact time with the relative one on hover. Without this script the server's exact
// time in the task's zone stays.
"use strict";

(function () {
  const KEY = "apicron.times";
  const CHOICES = ["task", "utc", "browser"];
  const select = document.getElementById("time-choice");
  let choice = localStorage.getItem(KEY);
  if (CHOICES.indexOf(choice) < 0) choice = "task";
  if (select) {
    select.value = choice;
    select.addEventListener("change", function () {
      choice = select.value;
      localStorage.setItem(KEY, choice);
      render();
    });
  }

  function zoneOf(el) {
    if (choice === "utc") return "UTC";
    if (choice === "browser") return undefined;
    return el.dataset.zone || "UTC";
  }

  function exact(date, zone) {
    const parts = {};
    new Intl.DateTimeFormat("en-GB", {
      timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
      minute: "2-digit", second: "2-digit", hourCycle: "h23", timeZoneName: "short",
    }).formatToParts(date).forEach(function (p) { parts[p.type] = p.value; });
    // ISO order, as the tables and date filters read.
    return parts.year + "-" + parts.month + "-" + parts.day + " " + parts.hour + ":" +
      parts.minute + ":" + parts.second + " " + parts.timeZoneName;
  }

  function relative(date) {
    const seconds = Math.round((date.getTime() - Date.now()) / 1000);
    const size = Math.abs(seconds);
    if (size < 1) return "now";
    let text;
    if (size < 60) text = size + " s";
    else if (size < 3600) text = Math.round(size / 60) + " min";
    else if (size < 48 * 3600) text = Math.round(size / 3600) + " h";
    else text = Math.round(size / 86400) + " d";
    return seconds > 0 ? "in " + text : text + " ago";
  }

  function render() {
    document.querySelectorAll("time.moment").forEach(function (el) {
      const date = new Date(el.getAttribute("datetime"));
      if (isNaN(date.getTime())) return;
      const full = exact(date, zoneOf(el));
      if (el.dataset.show === "exact") {
        el.textContent = full;
        el.title = relative(date);
      } else {
        el.textContent = relative(date);
        el.title = full;
      }
    });
  }

  render();
  setInterval(render, 1000);
  document.addEventListener("apicron:refreshed", render);
})();
