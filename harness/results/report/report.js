"use strict";
// The report's interactions: sorting, view/role/family/language filters, student panels, mining explorer.
// Everything it shows is in the page; it fetches nothing.

function cellValue(cell) {
  const raw = cell.getAttribute("data-value");
  if (raw === "") return "";  // a number column's missing cell: sorted last
  if (raw !== null) return parseFloat(raw);
  return cell.textContent.trim().toLowerCase();
}

function sortBy(th) {
  const table = th.closest("table");
  const index = Array.prototype.indexOf.call(th.parentNode.children, th);
  const descending = !th.classList.contains("sorted-desc");
  table.querySelectorAll("th").forEach(function (other) { other.classList.remove("sorted-asc", "sorted-desc"); });
  th.classList.add(descending ? "sorted-desc" : "sorted-asc");
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  rows.sort(function (a, b) {
    const x = cellValue(a.cells[index]);
    const y = cellValue(b.cells[index]);
    const missingX = x === "" || (typeof x === "number" && isNaN(x));
    const missingY = y === "" || (typeof y === "number" && isNaN(y));
    if (missingX !== missingY) return missingX ? 1 : -1;  // blank cells last, either way
    if (x < y) return descending ? 1 : -1;
    if (x > y) return descending ? -1 : 1;
    return 0;
  });
  rows.forEach(function (row) { row.classList.remove("group-start"); body.appendChild(row); });
}

function applyFilters() {
  const checked = document.querySelector("input[name=view]:checked");
  const view = checked ? checked.value : null;
  document.querySelectorAll("[data-view]").forEach(function (el) {
    el.classList.toggle("hidden", view !== null && el.getAttribute("data-view") !== view);
  });
  const roles = new Set(Array.from(document.querySelectorAll("input[name=role]:checked")).map(function (box) {
    return box.value;
  }));
  document.querySelectorAll("tr[data-role]").forEach(function (row) {
    row.classList.toggle("row-hidden", !roles.has(row.getAttribute("data-role")));
  });
  const familySelect = document.getElementById("family-filter");
  const langSelect = document.getElementById("lang-filter");
  const family = familySelect ? familySelect.value : "any";
  const lang = langSelect ? langSelect.value : "any";
  let shown = null;  // the languages on view: all, one, or the main results' own
  if (lang === "main") {
    shown = new Set(langSelect.selectedOptions[0].getAttribute("data-langs").split(" ").concat(["all"]));
  } else if (lang !== "any") {
    shown = new Set([lang]);
  }
  document.querySelectorAll("[data-family]").forEach(function (cell) {
    const wrongFamily = family !== "any" && cell.getAttribute("data-family") !== family;
    const wrongLang = shown !== null && !shown.has(cell.getAttribute("data-lang"));
    cell.classList.toggle("col-hidden", wrongFamily || wrongLang);
  });
}

function showStudent() {
  const chosen = document.getElementById("student-select").value;
  document.querySelectorAll(".student-panel").forEach(function (panel) {
    panel.classList.toggle("hidden", panel.getAttribute("data-student") !== chosen);
  });
}

// A histogram of gaps over [low, high] in equal bins: red left of 0 (errors), blue right of it, the zero
// line drawn, and the ends labelled; the end bars also hold the few gaps beyond the range.
function histogram(hist) {
  const width = 420, height = 150, pad = 28;
  const counts = hist.counts, low = hist.range[0], high = hist.range[1];
  const top = Math.max.apply(null, counts.concat([1]));
  const step = (width - 2 * pad) / counts.length;
  const at = function (value) { return pad + (value - low) / (high - low) * (width - 2 * pad); };
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("width", width);
  svg.setAttribute("height", height + 24);
  counts.forEach(function (count, i) {
    const from = low + i * (high - low) / counts.length, to = low + (i + 1) * (high - low) / counts.length;
    const bar = document.createElementNS(ns, "rect");
    const h = (height - pad) * count / top;
    bar.setAttribute("x", pad + i * step);
    bar.setAttribute("y", height - h);
    bar.setAttribute("width", Math.max(1, step - 1));
    bar.setAttribute("height", h);
    bar.setAttribute("fill", (from + to) / 2 < 0 ? "#cf222e" : "#0571b0");
    const tip = document.createElementNS(ns, "title");
    const beyond = i === 0 ? " (and below)" : i === counts.length - 1 ? " (and above)" : "";
    tip.textContent = "[" + from.toFixed(3) + ", " + to.toFixed(3) + ")" + beyond + ": " + count;
    bar.appendChild(tip);
    svg.appendChild(bar);
  });
  const zero = document.createElementNS(ns, "line");
  zero.setAttribute("class", "zero-line");
  zero.setAttribute("x1", at(0));
  zero.setAttribute("x2", at(0));
  zero.setAttribute("y1", pad / 2);
  zero.setAttribute("y2", height);
  zero.setAttribute("stroke", "#24292f");
  zero.setAttribute("stroke-dasharray", "4 3");
  svg.appendChild(zero);
  // the ends below the axis, 0 above its line, so the three never overprint
  [[low, low.toFixed(2), "start", height + 16], [high, "+" + high.toFixed(2), "end", height + 16],
   [0, "0", "middle", pad / 2 - 3]].forEach(function (mark) {
    const label = document.createElementNS(ns, "text");
    label.setAttribute("x", mark[0] === 0 ? at(0) : mark[2] === "start" ? pad : width - pad);
    label.setAttribute("y", mark[3]);
    label.setAttribute("font-size", "12");
    label.setAttribute("text-anchor", mark[2]);
    label.textContent = mark[1];
    svg.appendChild(label);
  });
  return svg;
}

// Offer only the pairs the chosen model was scored on; keep the chosen pair when it has one.
function syncExplorerPairs() {
  const data = JSON.parse(document.getElementById("explorer-data").textContent);
  const model = document.getElementById("ex-model").value;
  const pairs = document.getElementById("ex-pair");
  let first = null;
  Array.from(pairs.options).forEach(function (option) {
    const scored = ["fwd", "bwd"].some(function (dir) { return (model + "|" + option.value + "|" + dir) in data.entries; });
    option.disabled = !scored;
    if (scored && first === null) first = option.value;
  });
  if (pairs.selectedOptions.length && pairs.selectedOptions[0].disabled && first !== null) pairs.value = first;
}

function renderExplorer() {
  const data = JSON.parse(document.getElementById("explorer-data").textContent);
  const key = [document.getElementById("ex-model").value, document.getElementById("ex-pair").value,
               document.getElementById("ex-dir").value].join("|");
  const entry = data.entries[key];
  const out = document.getElementById("explorer-out");
  out.textContent = "";
  if (!entry) {
    out.textContent = "This model was not scored on this pair.";
    return;
  }
  const summary = document.createElement("p");
  summary.textContent = "Queries where a wrong candidate outranks the gold: " + entry.rate.toFixed(1) + "% of " +
    entry.n + ". Gap (gold minus best wrong cosine): median " + entry.median.toFixed(3) + ", 5th percentile " +
    entry.p5.toFixed(3) + ". Error types: " + (entry.tags.length ? entry.tags.join(", ") : "none tagged") + ".";
  out.appendChild(summary);
  const figure = document.createElement("div");
  figure.className = "hist";
  figure.appendChild(histogram(entry.hist));
  out.appendChild(figure);
  const table = document.createElement("table");
  const head = table.createTHead().insertRow();
  ["query", "its translation (gold)", "the wrong candidate ranked first", "gap", "tags"].forEach(function (name) {
    const th = document.createElement("th");
    th.textContent = name;
    head.appendChild(th);
  });
  const body = table.createTBody();
  entry.worst.forEach(function (row) {
    const tr = body.insertRow();
    [data.texts[row[0]], data.texts[row[1]], data.texts[row[2]], row[3].toFixed(3), row[4]].forEach(function (value, i) {
      const td = tr.insertCell();
      td.textContent = value;
      if (i < 3) td.className = "text";
    });
  });
  out.appendChild(table);
}

document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("th.sortable").forEach(function (th) {
    th.addEventListener("click", function () { sortBy(th); });
  });
  document.querySelectorAll("input[name=view], input[name=role], #family-filter, #lang-filter").forEach(function (el) {
    el.addEventListener("change", applyFilters);
  });
  const select = document.getElementById("student-select");
  if (select) { select.addEventListener("change", showStudent); showStudent(); }
  const exModel = document.getElementById("ex-model");
  if (exModel) exModel.addEventListener("change", function () { syncExplorerPairs(); renderExplorer(); });
  ["ex-pair", "ex-dir"].forEach(function (id) {
    const el = document.getElementById(id);
    if (el) el.addEventListener("change", renderExplorer);
  });
  if (document.getElementById("explorer-data")) { syncExplorerPairs(); renderExplorer(); }
  applyFilters();
});
