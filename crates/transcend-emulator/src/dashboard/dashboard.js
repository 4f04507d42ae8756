// The emulator's dashboard: the requests, one request's timeline, jobs, deliveries,
// reports and files, and the dashboard's actions. Every value from a request is
// shown as text (never parsed as HTML): submissions are anyone's input.
"use strict";

const API = "/emulator/v1/requests";
let key = "";
let selected = null;

const $ = (id) => document.getElementById(id);

function el(tag, text, attrs) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
  return node;
}

async function call(method, path) {
  const response = await fetch(path, { method, headers: { authorization: "Bearer " + key } });
  const text = await response.text();
  let body = null;
  try { body = JSON.parse(text); } catch (_) { body = { message: text }; }
  if (!response.ok) throw new Error((body && body.message) || response.status);
  return body;
}

function say(message, error) {
  const state = $("state");
  state.textContent = message;
  state.className = error ? "error" : "";
}

function renderList(list) {
  // The newest page: the listing answers it newest first.
  const rows = list.requests;
  $("count").textContent = "(" + (list.total ?? rows.length) + (list.total > rows.length ? ", newest " + rows.length + " shown" : "") + ")";
  const body = $("requests");
  body.replaceChildren(...rows.map((r) => {
    const row = el("tr", undefined, { "data-request-id": r.id });
    if (r.id === selected) row.className = "selected";
    row.append(el("td", r.createdAt), el("td", r.type), el("td", r.status, { "data-status": "" }),
      el("td", r.coreIdentifier), el("td", r.id, { class: "id" }));
    row.addEventListener("click", () => { selected = r.id; refresh(); });
    return row;
  }));
}

function renderDetail(view) {
  $("detail").hidden = false;
  $("detail-id").textContent = view.id;
  $("detail-status").textContent = view.status;
  $("detail-type").textContent = view.type;
  $("detail-core").textContent = view.coreIdentifier;
  $("timeline").replaceChildren(
    ...view.timeline.map((c) => el("li", c.at + "  " + (c.note ? c.status + ": " + c.note : c.status))),
  );
  $("enrichers").replaceChildren(...(view.enrichers || []).map((e) => {
    const box = el("div", undefined, { class: "job" });
    box.append(el("h4", e.enricherId + ": " + e.status));
    box.append(deliveries(e.deliveries));
    return box;
  }));
  $("jobs").replaceChildren(...view.jobs.map((job) => {
    const box = el("div", undefined, { class: "job", "data-silo": job.dataSiloId });
    const title = el("h4", job.dataSiloId + ": " + job.status);
    if (job.status === "DELIVERY_FAILED") title.className = "failed";
    box.append(title);
    if (job.nextDeliveryAt) box.append(el("p", "next delivery " + job.nextDeliveryAt));
    if (job.message) box.append(el("p", "message: " + job.message));
    const redeliver = el("button", "Redeliver");
    redeliver.addEventListener("click", () => act(encodeURIComponent(view.id) + "/jobs/" + encodeURIComponent(job.dataSiloId) + "/redeliver"));
    const skip = el("button", "Skip");
    skip.addEventListener("click", () => act(encodeURIComponent(view.id) + "/jobs/" + encodeURIComponent(job.dataSiloId) + "/skip"));
    box.append(el("p"), redeliver, skip);
    box.append(deliveries(job.deliveries));
    if (job.datapoints.length) box.append(el("p", "datapoints: " + job.datapoints.join(", ")));
    if (job.profiles.length) box.append(el("pre", JSON.stringify(job.profiles, null, 2)));
    if (job.reports.length) box.append(el("pre", JSON.stringify(job.reports, null, 2)));
    return box;
  }));
  const files = [];
  for (const job of view.jobs) {
    for (const file of job.files) {
      const item = el("li");
      const link = el("a", file.datapoint + (file.remoteId ? " (" + file.remoteId + ")" : ""), { href: "#" });
      link.addEventListener("click", (event) => { event.preventDefault(); download(view.id, file); });
      item.append(link, el("span", "  " + file.size + " bytes, sha256 " + file.sha256));
      files.push(item);
    }
  }
  $("files").replaceChildren(...files);
}

function deliveries(list) {
  const table = el("table");
  table.append(el("tr"));
  table.firstChild.append(el("th", "#"), el("th", "at"), el("th", "status"), el("th", "answer"));
  for (const d of list) {
    const row = el("tr");
    row.append(el("td", d.attempt), el("td", d.at), el("td", d.status === null ? "-" : d.status), el("td", d.outcome));
    table.append(row);
  }
  return table;
}

// A file of the access report, through the requester's own calls: its download key,
// then the file, saved by the browser.
async function download(id, file) {
  try {
    const keys = await call("GET", "/v1/data-subject-request/" + encodeURIComponent(id) + "/download-keys");
    const node = (keys.nodes || []).find((n) => n.dataPoint === file.datapoint && n.size === file.size);
    if (!node) throw new Error("no download key for this file");
    const response = await fetch("/v1/files?downloadKey=" + encodeURIComponent(node.downloadKey),
      { headers: { authorization: "Bearer " + key } });
    if (!response.ok) throw new Error("download failed: " + response.status);
    const url = URL.createObjectURL(await response.blob());
    const link = el("a", undefined, { href: url, download: node.fileName || file.datapoint });
    document.body.append(link);
    link.click();
    link.remove();
    URL.revokeObjectURL(url);
  } catch (error) {
    say(String(error.message || error), true);
  }
}

async function act(path) {
  try {
    await call("POST", API + "/" + path);
    say("done");
  } catch (error) {
    say(String(error.message || error), true);
  }
  refresh();
}

async function refresh() {
  if (!key) { say("enter an API key that may view"); return; }
  try {
    renderList(await call("GET", API + "?limit=200"));
    if (selected) renderDetail(await call("GET", API + "/" + encodeURIComponent(selected)));
    say("updated " + new Date().toLocaleTimeString());
  } catch (error) {
    say(String(error.message || error), true);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  // The key comes from the form, or from the page's fragment (#key=…), which the
  // browser never sends to a server.
  const fragment = new URLSearchParams(location.hash.slice(1));
  key = fragment.get("key") || sessionStorage.getItem("transcend-emulator-key") || "";
  $("key").value = key;
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    key = $("key").value;
    sessionStorage.setItem("transcend-emulator-key", key);
    refresh();
  });
  for (const button of document.querySelectorAll("#actions button")) {
    button.addEventListener("click", () => { if (selected) act(encodeURIComponent(selected) + "/" + button.dataset.action); });
  }
  refresh();
  setInterval(refresh, 1000);
});
