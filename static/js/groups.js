// Group pages: a "Copy link" button beside the invitation link (the link stays selectable
// without this script).
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("[data-copy]"), function (button) {
    var input = document.getElementById(button.getAttribute("data-copy"));
    if (!input || !navigator.clipboard) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(input.value).then(function () {
        button.textContent = "Copied";
        window.setTimeout(function () { button.textContent = "Copy link"; }, 2000);
      }, function () { input.select(); });
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll("input[readonly]"), function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });
})();
