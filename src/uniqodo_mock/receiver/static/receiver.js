// The receiver's QA page. Every recorded value is attacker-controlled text: it is only ever
// written with textContent (never innerHTML), so markup in a body or header shows as text.
"use strict";

(() => {
  const FILTER_KEYS = ["method", "path", "param", "since", "callback", "conforms"];
  const pageParams = new URLSearchParams(location.search);
  const token = pageParams.get("token");
  const form = document.getElementById("filters");
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

  function verdictCell(callback) {
    if (!callback.looks_like_callback) return el("td", "—", "na");
    return callback.conforms ? el("td", "conforms", "ok") : el("td", "does not conform", "bad");
  }

  function addRow(call) {
    if (tbody.querySelector(`tr[data-id="${Number(call.id)}"]`)) return;
    const row = document.createElement("tr");
    row.dataset.id = String(Number(call.id));
    row.append(el("td", call.id), el("td", call.received_at), el("td", call.method),
      el("td", call.path + (call.query ? "?" + call.query : "")), el("td", call.client),
      el("td", call.response_status), verdictCell(call.callback));
    row.addEventListener("click", () => showDetail(call.id));
    tbody.append(row);
    document.getElementById("empty").hidden = true;
  }

  function fillTable(table, rows) {
    const body = table.querySelector("tbody");
    body.replaceChildren();
    for (const cells of rows) {
      const row = document.createElement("tr");
      for (const cell of cells) row.append(el("td", cell));
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

  async function showDetail(id) {
    selectedId = Number(id);
    for (const row of tbody.querySelectorAll("tr")) {
      row.classList.toggle("selected", Number(row.dataset.id) === selectedId);
    }
    let call;
    try {
      call = await getJson(`/calls/${selectedId}`);
    } catch (error) {
      showError(`Cannot load call ${selectedId}: ${error.message}`);
      return;
    }
    document.getElementById("detail").hidden = false;
    document.getElementById("detail-title").textContent = `Call #${call.id}: ${call.method} ${call.path}`;
    const meta = document.getElementById("detail-meta");
    meta.replaceChildren();
    const facts = [["Received", call.received_at], ["Client", call.client], ["Query", call.query],
      ["Content-Type", call.content_type], ["Body size", `${call.body_size} bytes`],
      ["Answered", call.response_status], ["Rejected (too large)", call.rejected ? "yes" : "no"]];
    for (const [name, value] of facts) meta.append(el("dt", name), el("dd", value));
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
    history.replaceState(null, "", location.pathname + (shown.toString() ? "?" + shown : ""));
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
  document.getElementById("clear").addEventListener("click", async () => {
    if (!confirm("Delete every call matching the current filters?")) return;
    try {
      const data = await getJson("/calls", filterParams(), { method: "DELETE" });
      showError(`Deleted ${data.deleted} calls.`);
      document.getElementById("detail").hidden = true;
      load();
    } catch (error) { showError(`Cannot delete: ${error.message}`); }
  });

  for (const key of FILTER_KEYS) {
    const value = pageParams.get(key);
    if (value !== null) form.elements[key].value = value;
  }
  load();
})();
