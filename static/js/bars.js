// Sizes the profile's bars (missing share, histogram, top values) from their data-width and
// data-height attributes. The Content-Security-Policy refuses inline style attributes;
// styles set from a script of our own are allowed.
(function () {
  "use strict";

  function sizeBars(root) {
    root.querySelectorAll("[data-width]").forEach(function (el) {
      el.style.width = el.dataset.width + "%";
    });
    root.querySelectorAll("[data-height]").forEach(function (el) {
      el.style.height = el.dataset.height + "%";
    });
  }

  if (window.htmx) {
    // Runs on the page once loaded and on every fragment htmx swaps in.
    window.htmx.onLoad(sizeBars);
  } else {
    sizeBars(document);
  }
})();
