// The open inbox's refresh (issue 18, ADR 0905): htmx polls the list; this file holds the one rule htmx would
// otherwise evaluate from the hx-trigger attribute with Function(), which the Content-Security-Policy
// (`script-src 'self'`, no 'unsafe-eval') refuses — the browser then ignored the rule and replaced the list
// under the user's keyboard focus. Here, as static code: no request while focus is inside the list, so a
// keyboard or screen-reader user never loses their place; the next tick after focus leaves fetches as usual.
(function () {
  "use strict";
  document.addEventListener("htmx:beforeRequest", function (event) {
    var list = event.detail && event.detail.elt;
    if (list && list.id === "inbox-list" && list.contains(document.activeElement)) {
      event.preventDefault();
    }
  });
})();
