// The open inbox's refresh (issue 18, ADR 0905): htmx polls the list; this file holds the one rule htmx would
// otherwise evaluate from the hx-trigger attribute with Function(), which the Content-Security-Policy
// (`script-src 'self'`, no 'unsafe-eval') refuses — the browser then ignored the rule and replaced the list
// under the user's keyboard focus. Here, as static code: no request while focus is inside the list, so a
// keyboard or screen-reader user never loses their place; the next tick after focus leaves fetches as usual.
(function () {
  "use strict";
  function focusInside(list) {
    return list && list.id === "inbox-list" && list.contains(document.activeElement);
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (focusInside(event.detail && event.detail.elt)) {
      event.preventDefault();
    }
  });
  // A request sent just before focus moved into the list answers after it: that answer is dropped too, or it
  // would replace the element that has focus. The list keeps its signature, so the next tick after focus
  // leaves asks again and gets the change.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (focusInside(event.detail && event.detail.target)) {
      event.detail.shouldSwap = false;
    }
  });
})();
