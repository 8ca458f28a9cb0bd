// "Copy" buttons: copy the text of the field they name. Without this script the field is still
// there to select by hand; with it, the buttons appear.
(function () {
  "use strict";
  function copied(button, word) {
    var label = button.textContent;
    button.textContent = word;
    setTimeout(function () { button.textContent = label; }, 2000);
  }
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      field.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(
          function () { copied(button, "Copied"); },
          function () { copied(button, "Press Ctrl+C"); }
        );
      } else {
        copied(button, document.execCommand("copy") ? "Copied" : "Press Ctrl+C");
      }
    });
  });
})();
