// The receiver's QA page. Every recorded value is attacker-controlled text: it is only ever
// written with textContent (never innerHTML), so markup in a body or header shows as text.
"use strict";

(() => {
  const FILTER_KEYS = ["method", "path", "param", "since", "callback", "conforms"];
  // Columns of their own, then the other redemption callback items in the documented order;
  // any other recorded parameter follows in the order it came.
  const COLUMN_PARAMS = ["code", "orderId"];
  const CALLBACK_ITEMS = ["id", "offerId", "merchantId", "distributorId", "orderValue", "currency", "redeemedAt"];
  // Characters a list cell or a folded value holds in the page (the rest is one click away):
  // a 60 KB value must cost neither a tall row nor a huge DOM.
  const CELL_CHARS = 160;
  const FOLD_CHARS = 200;
  const TITLE_CHARS = 1000;
  const PERMALINK = /^#\/calls\/(\d+)$/;
  const pageParams = new URLSearchParams(location.search);
  const token = pageParams.get("token");
  const form = document.getElementById("filters");
  const panes = document.getElementById("panes");
  const detail = document.getElementById("detail");
  const tbody = document.querySelector("#calls tbody");
  const live = document.getElementById("live");
  const message = document.getElementById("message");
  let source = null;
  let selectedId = null;

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function clip(text, limit) {
    const value = String(text);
    return value.length > limit ? value.slice(0, limit) + "…" : value;
  }

  function cell(text, className, title) {
    const node = el("td", text === null || text === undefined ? "" : clip(text, CELL_CHARS), className);
    const full = title !== undefined ? title : text;
    if (full !== null && full !== undefined && String(full) !== "") node.title = clip(full, TITLE_CHARS);
    return node;
  }

  function callLink(id) { return `#/calls/${Number(id)}`; }

  function filterParams() {
    const params = new URLSearchParams();
    for (const key of FILTER_KEYS) {
      const field = form.elements[key];
      const value = field.value.trim();
      if (value) params.append(key, value);
    }
    return params;
  }

  function apiUrl(path, params) {
    const query = new URLSearchParams(params || []);
    if (token) query.set("token", token);
    const text = query.toString();
    return "/__receiver" + path + (text ? "?" + text : "");
  }

  function showError(text) { message.textContent = text || ""; }

  async function getJson(path, params, options) {
    const response = await fetch(apiUrl(path, params), options);
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      const text = data && data.error ? data.error.message : response.statusText;
      throw new Error(text);
    }
    return data;
  }

  // A mark and a word; the word hides when the detail is open.
  function verdictCell(callback) {
    let mark = "—", word = "", className = "na", title = "not a Uniqodo callback";
    if (callback.looks_like_callback && callback.conforms) {
      [mark, word, className, title] = ["✓", "conforms", "ok", "conforms to the redemption callback"];
    } else if (callback.looks_like_callback) {
      [mark, word, className] = ["✗", "fails", "bad"];
      title = "does not conform: " + callback.problems.join("; ");
    }
    const node = cell(null, `col-callback ${className}`, title);
    node.append(el("span", mark, "mark"), el("span", word, "wide-only"));
    return node;
  }

  function firstParam(params, name) {
    const found = params.find((p) => p.name === name);
    return found ? found.value : null;
  }

  function otherFields(params) {
    const rest = params.filter((p) => !COLUMN_PARAMS.includes(p.name));
    const rank = (p) => {
      const index = CALLBACK_ITEMS.indexOf(p.name);
      return index === -1 ? CALLBACK_ITEMS.length : index;
    };
    return rest.map((p, i) => [rank(p), i, p]).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((x) => x[2]);
  }

  function fieldsCell(params) {
    const node = el("td", null, "col-fields");
    const fields = otherFields(params);
    let used = 0;
    for (const p of fields) {
      if (used >= CELL_CHARS) break; // the cell shows one line: the rest is in its title
      const name = clip(p.name, 40);
      const value = clip(p.value, CELL_CHARS - used);
      const field = el("span", null, "field");
      field.append(el("span", name, "field-name"), "=" + value);
      node.append(field);
      used += name.length + 1 + value.length;
    }
    const title = fields.map((p) => `${p.name}=${p.value}`).join("  ");
    if (title) node.title = clip(title, TITLE_CHARS);
    return node;
  }

  function addRow(call) {
    const id = Number(call.id);
    if (tbody.querySelector(`tr[data-id="${id}"]`)) return;
    const row = document.createElement("tr");
    row.dataset.id = String(id);
    const link = el("a", id);
    link.href = callLink(id);
    const idCell = el("td", null, "col-id");
    idCell.append(link);
    const params = call.params || [];
    // "2024-05-01 10:00:00"; the date hides when the detail is open, the time of day stays.
    const received = String(call.received_at);
    const timeCell = cell(null, "col-time", received);
    timeCell.append(el("span", received.slice(0, 10) + " ", "wide-only"), el("span", received.slice(11, 19)));
    row.append(
      idCell,
      timeCell,
      cell(call.method, "col-method"),
      cell(call.path + (call.query ? "?" + call.query : ""), "col-path"),
      cell(firstParam(params, "code"), "col-code"),
      cell(firstParam(params, "orderId"), "col-orderId"),
      fieldsCell(params),
      cell(call.client, "col-client"),
      cell(call.response_status, "col-answer", call.rejected ? "refused body" : undefined),
      verdictCell(call.callback),
    );
    row.classList.toggle("selected", id === selectedId);
    row.addEventListener("click", (event) => {
      if (event.target.closest("a")) return; // the id link navigates by itself
      openCall(id);
    });
    tbody.append(row);
    document.getElementById("empty").hidden = true;
  }

  // A recorded value, folded: one line, and at most FOLD_CHARS characters in the page until
  // "show all" puts the whole text in (in a box of bounded height).
  function foldedValue(text) {
    const value = text === null || text === undefined ? "" : String(text);
    const box = el("div", null, "value folded");
    const shown = el("span", clip(value, FOLD_CHARS), "text");
    box.append(shown);
    if (value.length > FOLD_CHARS) box.dataset.long = "true";
    const button = el("button", "", "expand");
    button.type = "button";
    button.hidden = true;
    button.addEventListener("click", (event) => {
      event.stopPropagation();
      const expanding = box.classList.contains("folded");
      box.classList.toggle("folded", !expanding);
      box.classList.toggle("expanded", expanding);
      shown.textContent = expanding ? value : clip(value, FOLD_CHARS);
      label(button, value, expanding);
    });
    label(button, value, false);
    box.append(button);
    return box;
  }

  function label(button, value, expanded) {
    button.textContent = expanded ? "fold" : `show all (${value.length.toLocaleString("en")} chars)`;
  }

  // Expanders only where a folded value does not show whole: too long, or wider than its cell.
  function offerExpanders(root) {
    for (const box of root.querySelectorAll(".value.folded")) {
      const text = box.querySelector(".text");
      const button = box.querySelector(".expand");
      button.hidden = !(box.dataset.long || text.scrollWidth > text.clientWidth);
    }
  }

  function fillTable(table, rows) {
    const body = table.querySelector("tbody");
    body.replaceChildren();
    for (const cells of rows) {
      const row = document.createElement("tr");
      cells.forEach((text, index) => {
        if (index === cells.length - 1) {
          const td = el("td", null, "value-cell");
          td.append(foldedValue(text));
          row.append(td);
        } else {
          row.append(cell(text));
        }
      });
      body.append(row);
    }
  }

  function hexDump(base64) {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const lines = [];
    for (let i = 0; i < bytes.length && i < 65536; i += 16) {
      const chunk = Array.from(bytes.slice(i, i + 16));
      const hex = chunk.map((b) => b.toString(16).padStart(2, "0")).join(" ");
      const ascii = chunk.map((b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : ".")).join("");
      lines.push(i.toString(16).padStart(8, "0") + "  " + hex.padEnd(48) + "  " + ascii);
    }
    return lines.join("\n");
  }

  function markSelected() {
    for (const row of tbody.querySelectorAll("tr")) {
      row.classList.toggle("selected", Number(row.dataset.id) === selectedId);
    }
  }

  // The permalink of a call is this page with #/calls/ID: opening it shows that call.
  function openCall(id) {
    const hash = callLink(id);
    if (location.hash === hash) showDetail(id);
    else location.hash = hash; // hashchange shows it
  }

  function hideDetail() {
    selectedId = null;
    detail.hidden = true;
    panes.classList.remove("with-detail");
    markSelected();
  }

  function closeDetail() {
    hideDetail();
    if (PERMALINK.test(location.hash)) history.pushState(null, "", location.pathname + location.search);
  }

  async function showDetail(id) {
    selectedId = Number(id);
    markSelected();
    let call;
    try {
      call = await getJson(`/calls/${selectedId}`);
    } catch (error) {
      showError(`Cannot load call ${selectedId}: ${error.message}`);
      return;
    }
    if (Number(call.id) !== selectedId) return; // another call was opened meanwhile
    showError("");
    detail.hidden = false;
    panes.classList.add("with-detail");
    const title = document.getElementById("detail-title");
    title.textContent = `Call #${call.id}: ${call.method} ${clip(call.path, FOLD_CHARS)}`;
    title.title = clip(call.path, TITLE_CHARS);
    document.getElementById("detail-permalink").href = callLink(call.id);
    const meta = document.getElementById("detail-meta");
    meta.replaceChildren();
    const facts = [["Received", call.received_at], ["Client", call.client], ["Query", call.query],
      ["Content-Type", call.content_type], ["Body size", `${call.body_size} bytes`],
      ["Answered", call.response_status], ["Rejected", call.rejected ? "yes (body refused)" : "no"]];
    for (const [name, value] of facts) {
      const dd = el("dd");
      dd.append(foldedValue(value));
      meta.append(el("dt", name), dd);
    }
    const verdict = document.getElementById("detail-verdict");
    verdict.replaceChildren();
    if (!call.callback.looks_like_callback) {
      verdict.append(el("p", "Not a Uniqodo callback (no delivery header, no callback item).", "na"));
    } else if (call.callback.conforms) {
      verdict.append(el("p", "Conforms to the redemption callback in openapi/uniqodo.yaml.", "ok"));
    } else {
      verdict.append(el("p", "Does not conform to the redemption callback:", "bad"));
      const list = el("ul");
      for (const problem of call.callback.problems) list.append(el("li", problem));
      verdict.append(list);
    }
    fillTable(document.getElementById("detail-params"), call.params.map((p) => [p.source, p.name, p.value]));
    fillTable(document.getElementById("detail-headers"), call.headers);
    const body = document.getElementById("detail-body");
    const info = document.getElementById("detail-body-info");
    if (call.body_text !== null) {
      body.textContent = call.body_text;
      info.textContent = "(UTF-8 text)";
    } else {
      body.textContent = hexDump(call.body_base64);
      info.textContent = "(binary, hex dump)";
    }
    document.getElementById("detail-body-download").href = apiUrl(`/calls/${call.id}/body`);
    offerExpanders(detail);
  }

  function followHash() {
    const match = PERMALINK.exec(location.hash);
    if (match) showDetail(Number(match[1]));
    else hideDetail();
  }

  function connect(after) {
    if (source) source.close();
    const params = filterParams();
    if (after !== null && after !== undefined) params.set("after", String(after));
    source = new EventSource(apiUrl("/stream", params));
    source.addEventListener("open", () => { live.textContent = "live"; live.className = "live on"; });
    source.addEventListener("error", () => { live.textContent = "reconnecting…"; live.className = "live off"; });
    source.addEventListener("call", (event) => addRow(JSON.parse(event.data)));
  }

  async function load() {
    showError("");
    const params = filterParams();
    const shown = new URLSearchParams(params);
    if (token) shown.set("token", token);
    history.replaceState(null, "", location.pathname + (shown.toString() ? "?" + shown : "") + location.hash);
    for (const [id, format] of [["export-json", "json"], ["export-csv", "csv"]]) {
      const exportParams = new URLSearchParams(params);
      exportParams.set("format", format);
      document.getElementById(id).href = apiUrl("/calls/export", exportParams);
    }
    tbody.replaceChildren();
    document.getElementById("empty").hidden = false;
    let cursor = 0;
    try {
      // Newest last: page through to the end, then follow live from the last id.
      for (let page = 0; page < 50; page++) {
        const query = new URLSearchParams(params);
        query.set("after", String(cursor));
        query.set("limit", "1000");
        const data = await getJson("/calls", query);
        for (const call of data.calls) addRow(call);
        if (data.next_cursor !== null) cursor = data.next_cursor;
        if (!data.has_more) break;
      }
    } catch (error) {
      showError(`Cannot list calls: ${error.message}`);
      return;
    }
    connect(cursor);
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); load(); });
  document.getElementById("reset").addEventListener("click", () => { form.reset(); load(); });
  document.getElementById("detail-close").addEventListener("click", closeDetail);
  document.getElementById("clear").addEventListener("click", async () => {
    if (!confirm("Delete every call matching the current filters?")) return;
    try {
      const data = await getJson("/calls", filterParams(), { method: "DELETE" });
      closeDetail();
      showError(`Deleted ${data.deleted} calls.`);
      load();
    } catch (error) { showError(`Cannot delete: ${error.message}`); }
  });
  window.addEventListener("hashchange", followHash);
  let resizing = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => offerExpanders(detail), 100);
  });

  for (const key of FILTER_KEYS) {
    const value = pageParams.get(key);
    if (value !== null) form.elements[key].value = value;
  }
  load();
  followHash();
})();
