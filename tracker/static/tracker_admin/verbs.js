/* One-click verbs of a change page (templates/admin/proposals/change_form_verbs.html): a button
   with data-confirm posts only once the browser's confirm dialog is accepted, and only once (a
   second click while the page loads would post the verb again). A static file, not an inline
   script, so that the Content-Security-Policy needs no 'unsafe-inline'. Without scripts the
   button posts directly. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-confirm]") : null;
    if (!button) { return; }
    if (button.getAttribute("data-posting") === "1" || !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
      return;
    }
    button.setAttribute("data-posting", "1");
  });
})();
