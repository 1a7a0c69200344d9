// Site behaviour that would otherwise need inline script or hx-on (both barred by the CSP).
(function () {
  "use strict";

  function statusBox() {
    return document.getElementById("htmx-status");
  }

  // htmx does not swap error responses: show their message instead of failing silently.
  document.addEventListener("htmx:responseError", function (event) {
    var box = statusBox();
    if (!box) { return; }
    var xhr = event.detail.xhr;
    var text = (xhr && xhr.responseText && xhr.responseText.length < 500) ? xhr.responseText : "Something went wrong. Please try again.";
    box.textContent = text;
    box.hidden = false;
  });

  document.addEventListener("htmx:sendError", function () {
    var box = statusBox();
    if (!box) { return; }
    box.textContent = "The server could not be reached. Check your connection and try again.";
    box.hidden = false;
  });

  document.addEventListener("htmx:beforeRequest", function () {
    var box = statusBox();
    if (box) { box.hidden = true; }
  });

  // After a swap that brought an error summary, move focus to it so screen readers hear it.
  document.addEventListener("htmx:afterSettle", function (event) {
    // The swapped element replaced the original target, so look from the event's element.
    var root = event.target && event.target.isConnected ? event.target : document;
    var summary = (root.matches && root.matches(".error-summary")) ? root : root.querySelector(".error-summary");
    if (summary) { summary.focus(); }
  });

  // Auto-submitting filter forms: with JavaScript, a change submits the form through htmx;
  // without it, the visible Apply button does the same as a plain GET.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector(".error-summary");
    if (summary) { summary.focus(); }
    document.querySelectorAll("[data-js-hide]").forEach(function (el) { el.hidden = true; });
  });
})();
