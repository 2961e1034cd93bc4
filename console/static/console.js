// Progressive enhancement only: every action works without this file.
// Shows the "Print the slip" button (printing needs script) and wires it to the browser's print dialog.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
});
