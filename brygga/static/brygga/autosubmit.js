// Sends a form marked data-autosubmit as soon as the page has loaded: the request to the signing service
// (ADR 0408). Without JavaScript the user presses the form's button; CSP allows no inline script.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-autosubmit]");
    if (form) form.submit();
  });
})();
