// Create/Edit Scheduled Task: trigger switch, live preview, Select API, parameter rows, body.
"use strict";

(function () {
  const form = document.getElementById("task-form");
  if (!form) return;
  const $ = function (id) { return document.getElementById(id); };
  const catalog = JSON.parse($("api-catalog").textContent);
  const csrf = form.querySelector("input[name=csrf_token]").value;

  // --- trigger type: CRON shows the expression, CALENDAR the interval, AT the one instant;
  // business calendars apply to the repeating triggers only (issue 18) ---------------------
  function triggerType() {
    const chosen = form.querySelector("input[name=trigger_type]:checked");
    return chosen ? chosen.value : "CRON";
  }
  function show(id, on, inputs) {
    $(id).hidden = !on;
    inputs.forEach(function (name) { $(name).disabled = !on; });
  }
  function switchTrigger() {
    const type = triggerType();
    show("cron-fields", type === "CRON", ["cron_expression"]);
    show("calendar-fields", type === "CALENDAR", ["interval_unit", "interval_value"]);
    show("at-fields", type === "AT", ["run_at", "after_completion"]);
    show("business-calendar-fields", type !== "AT", ["calendar_ids", "calendar_policy"]);
  }
  function chosenCalendars() {
    return Array.from($("calendar_ids").selectedOptions).map(function (o) { return o.value; });
  }

  // --- live preview: the words and the next five fire times, from the server ----------------
  let timer = null;
  let sequence = 0;
  function schedulePreview() {
    clearTimeout(timer);
    timer = setTimeout(runPreview, 250);
  }
  async function runPreview() {
    const body = {
      trigger_type: triggerType(),
      effective_time: $("effective_time").value || null,
      end_time: $("end_time").value || null,
      timezone: $("timezone").value || null,
      count: 5,
    };
    if (body.trigger_type === "AT") {
      body.run_at = $("run_at").value || null;
      if (!body.run_at) { showPreviewHint(); return; }
    } else if (body.trigger_type === "CRON") {
      body.cron_expression = $("cron_expression").value.trim();
      if (!body.cron_expression) { showPreviewHint(); return; }
    } else {
      body.interval_unit = $("interval_unit").value;
      const value = parseInt($("interval_value").value, 10);
      body.interval_value = isNaN(value) ? $("interval_value").value : value;
    }
    if (body.trigger_type !== "AT") {
      body.calendar_ids = chosenCalendars();
      body.calendar_policy = $("calendar_policy").value;
    }
    const mine = ++sequence;
    let answer;
    try {
      const response = await fetch("/console/api/preview", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify(body),
      });
      answer = { ok: response.ok, data: await response.json() };
    } catch (e) {
      return;
    }
    if (mine !== sequence) return; // a newer keystroke already asked
    renderPreview(answer);
  }
  function showPreviewHint() {
    $("preview-description").innerHTML = '<span class="muted">Type an expression to see when it fires.</span>';
    $("preview-warnings").replaceChildren();
    $("preview-times").replaceChildren();
  }
  function renderPreview(answer) {
    const desc = $("preview-description");
    const list = $("preview-times");
    const warnings = $("preview-warnings");
    list.replaceChildren();
    warnings.replaceChildren();
    if (!answer.ok) {
      desc.className = "preview-desc preview-error";
      desc.id = "preview-description";
      desc.textContent = (answer.data.field ? answer.data.field + ": " : "") + answer.data.error_msg;
      return;
    }
    desc.className = "preview-desc";
    desc.textContent = answer.data.description;
    // Things the expression's reader may have misread (e.g. Quartz day numbers), in words.
    (answer.data.warnings || []).forEach(function (text) {
      const item = document.createElement("li");
      item.textContent = text;
      warnings.append(item);
    });
    answer.data.fire_times.forEach(function (t) {
      const item = document.createElement("li");
      item.textContent = t.local.replace("T", " ");
      // Every fire a DST change touched: moved to the jump, a pass of a repeated hour, or
      // the first after a gap; the note says which.
      if (t.dst_shifted || t.dst_note) {
        const mark = document.createElement("span");
        mark.className = "badge badge-dst";
        mark.textContent = "DST change";
        mark.title = t.dst_note || "A daylight-saving change moved this fire time";
        const note = document.createElement("span");
        note.className = "dst-note";
        note.textContent = t.dst_note || "";
        item.append(" ", mark, " ", note);
      }
      // A fire a business calendar moved says from where and which calendar entry did it.
      if (t.calendar_note) {
        const moved = document.createElement("span");
        moved.className = "calendar-note";
        moved.textContent = t.calendar_note;
        item.append(" ", moved);
      }
      list.append(item);
    });
    if (!answer.data.fire_times.length) {
      const item = document.createElement("li");
      item.textContent = "never fires again";
      list.append(item);
    }
  }

  // --- Select API -------------------------------------------------------------------------
  const picker = $("api-picker");
  function apiById(id) { return catalog.apis.find(function (a) { return a.id === id; }); }
  function whyNot(api, appId) {
    // seed: another app's API must use App authentication, and the task's app needs a grant
    if (!appId) return "Select the task's integration application first.";
    if (api.app_id === appId) return null;
    if (api.auth_type !== "APP") return "hidden";
    const granted = (catalog.grants[appId] || []).indexOf(api.id) >= 0;
    if (!granted) {
      return "Not authorized: " + (catalog.apps[appId] || "this app") +
        " holds no grant for it. Use Authorize App on the APIs page.";
    }
    return null;
  }
  function openPicker() {
    const appId = $("app_id").value;
    const rows = $("picker-rows");
    rows.replaceChildren();
    $("picker-note").textContent = appId
      ? "Published APIs that " + catalog.apps[appId] + " may call. Other applications' APIs appear only when they use App authentication."
      : "Select the task's integration application first.";
    let shown = 0;
    catalog.apis.forEach(function (api) {
      const reason = whyNot(api, appId);
      if (reason === "hidden") return;
      shown += 1;
      const tr = document.createElement("tr");
      tr.dataset.api = api.name;
      const cells = [
        api.name,
        api.method + " " + api.path,
        api.auth_type,
        catalog.apps[api.app_id] || api.app_id,
      ];
      cells.forEach(function (text) {
        const td = document.createElement("td");
        td.textContent = text;
        tr.append(td);
      });
      const td = document.createElement("td");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-small btn-primary";
      button.textContent = "Select";
      button.setAttribute("aria-label", "Select " + api.name);
      if (reason) {
        button.disabled = true;
        const why = document.createElement("div");
        why.className = "muted small why-not";
        why.textContent = reason;
        td.append(button, why);
      } else {
        button.addEventListener("click", function () { chooseApi(api); picker.close(); $("select-api").focus(); });
        td.append(button);
      }
      tr.append(td);
      rows.append(tr);
    });
    if (!shown) {
      const tr = document.createElement("tr");
      tr.innerHTML = '<td colspan="5" class="empty">No published API to choose. Publish an API on the APIs page first.</td>';
      rows.append(tr);
    }
    picker.showModal();
  }
  function chooseApi(api) {
    $("api_id").value = api ? api.id : "";
    $("api_display").value = api ? api.name + " — " + api.method + " " + api.path : "";
    updateBody();
  }
  function updateBody() {
    const api = apiById($("api_id").value);
    // seed: Body only for POST, PUT and PATCH
    const allowed = !api || catalog.body_methods.indexOf(api.method) >= 0;
    $("body_content_type").disabled = !allowed;
    $("body_content").disabled = !allowed;
    $("body-fields").classList.toggle("is-disabled", !allowed);
    $("body-help").textContent = allowed
      ? "Only for POST, PUT and PATCH APIs."
      : "Not available: the selected API uses " + api.method + "; a body can be sent only with POST, PUT or PATCH.";
  }

  // --- Headers and Parameters rows ----------------------------------------------------------
  let counter = 1000;
  function addRow(kind) {
    const container = $(kind + "-rows");
    const row = $("row-template").content.firstElementChild.cloneNode(true);
    const n = ++counter;
    const label = kind === "header" ? "Header" : "Parameter";
    ["name", "value"].forEach(function (part) {
      const input = row.querySelector('[data-part="' + part + '"]');
      input.name = kind + "_" + part;
      input.id = kind + "_" + part + "_" + n;
      const lab = row.querySelector('[data-for="' + part + '"]');
      lab.htmlFor = input.id;
      lab.textContent = label + " " + part;
    });
    row.querySelector("[data-remove-row]").setAttribute("aria-label", "Remove " + label.toLowerCase());
    container.append(row);
    row.querySelector("input").focus();
  }
  form.addEventListener("click", function (event) {
    const add = event.target.closest("[data-add-row]");
    if (add) { addRow(add.dataset.addRow); return; }
    const remove = event.target.closest("[data-remove-row]");
    if (remove) { remove.closest(".param-row").remove(); }
  });

  // --- wiring -------------------------------------------------------------------------------
  ["cron_expression", "interval_value", "effective_time", "run_at"].forEach(function (id) {
    $(id).addEventListener("input", schedulePreview);
  });
  ["interval_unit", "timezone", "effective_time", "end_time", "run_at", "calendar_ids", "calendar_policy"].forEach(function (id) {
    $(id).addEventListener("change", function () { switchTrigger(); schedulePreview(); });
  });
  form.querySelectorAll("input[name=trigger_type]").forEach(function (radio) {
    radio.addEventListener("change", function () { switchTrigger(); schedulePreview(); });
  });
  $("select-api").addEventListener("click", openPicker);
  $("picker-close").addEventListener("click", function () { picker.close(); });

  switchTrigger();
  const current = apiById($("api_id").value);
  if (current) chooseApi(current); else if ($("api_id").value) $("api_display").value = "(an API that is no longer published)";
  updateBody();
  schedulePreview();
})();
