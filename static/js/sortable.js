// Client-side sorting of tables marked `data-sortable`: each heading with `data-sort`
// becomes a button (so keyboard users reach it with Tab and sort with Enter or Space),
// and the heading says its order with aria-sort. Cells may carry `data-value` to sort by.
// The first click sorts in the heading's `data-first` order ("ascending" unless it says
// "descending"): the best model first, whether the column's best is its largest or its
// smallest value; the next clicks reverse the order.
(function () {
  "use strict";

  function cellValue(row, index, kind) {
    var cell = row.cells[index];
    var raw = cell.hasAttribute("data-value") ? cell.getAttribute("data-value") : cell.textContent;
    raw = raw.trim();
    if (kind === "number") {
      var n = parseFloat(raw);
      return isNaN(n) ? null : n;
    }
    return raw.toLowerCase();
  }

  function sortBy(table, th) {
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var kind = th.getAttribute("data-sort");
    var current = th.getAttribute("aria-sort");
    var ascending = current
      ? current !== "ascending"
      : th.getAttribute("data-first") !== "descending";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, index, kind), y = cellValue(b, index, kind);
      if (x === null && y === null) return 0;
      if (x === null) return 1;  // empty cells last, whichever the direction
      if (y === null) return -1;
      var order = x < y ? -1 : x > y ? 1 : 0;
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    table.querySelectorAll("th[data-sort]").forEach(function (other) {
      other.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  function enhance(root) {
    root.querySelectorAll("table[data-sortable]:not([data-sort-ready])").forEach(function (table) {
      table.setAttribute("data-sort-ready", "");
      table.querySelectorAll("th[data-sort]").forEach(function (th) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "sort";
        button.textContent = th.textContent;
        button.setAttribute("aria-label", "Sort by " + th.textContent.trim());
        th.textContent = "";
        th.appendChild(button);
        button.addEventListener("click", function () { sortBy(table, th); });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:afterSettle", function () { enhance(document); });
})();
