// A character counter under every text area that has a limit (issue 13 item 3, ADR 0007). Progressive
// enhancement only: the limit is also in the maxlength attribute and checked on the server, which refuses a
// longer text with a Swedish message (TEXT-LANGD). The counter is numeric ("1 234 / 2 000"), so it needs no
// translation, and is not a live region (a screen reader is not interrupted on every key).
(function () {
  "use strict";
  function format(n) {
    return n.toLocaleString("sv-SE");
  }
  function attach(field) {
    var limit = parseInt(field.getAttribute("maxlength"), 10);
    if (!limit || field.dataset.counter === "on") return;
    field.dataset.counter = "on";
    var counter = document.createElement("span");
    counter.className = "counter";
    counter.setAttribute("aria-hidden", "true");
    function update() {
      var used = field.value.length;
      counter.textContent = format(used) + " / " + format(limit);
      counter.classList.toggle("near", used > limit * 0.9);
    }
    field.addEventListener("input", update);
    field.insertAdjacentElement("afterend", counter);
    update();
  }
  function init() {
    document.querySelectorAll("textarea[maxlength]").forEach(attach);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
