// Search forms: mark the request that a form's own submission (Enter, or its button) sends
// through htmx, so that the server can tell a search someone submitted from the requests the
// active search sends while they type. Only submitted searches that find nothing are logged.
(function () {
  "use strict";
  document.addEventListener("htmx:configRequest", function (event) {
    var trigger = event.detail.triggeringEvent;
    if (trigger && trigger.type === "submit") {
      event.detail.headers["X-Search-Submit"] = "true";
    }
  });
})();
