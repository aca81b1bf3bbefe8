/* A job's progress (templates/admin/tracker/_progress.html): polls the status URL every second
   and reloads the page when the job has finished. A static file, not an inline script, so that
   the Content-Security-Policy needs no 'unsafe-inline'. */
(function () {
  "use strict";
  var box = document.getElementById("job-progress");
  if (!box) { return; }
  var url = box.getAttribute("data-status-url");
  function poll() {
    fetch(url, {credentials: "same-origin", cache: "no-store"}).then(function (r) { return r.json(); }).then(function (job) {
      document.getElementById("job-state").textContent = job.state_label;
      document.getElementById("job-message").textContent = job.message;
      var bar = document.getElementById("job-bar");
      if (job.percent !== null) { bar.value = job.percent; } else { bar.removeAttribute("value"); }
      document.getElementById("job-count").textContent = job.total ? (job.done + " / " + job.total) : "";
      if (job.finished) { window.location.reload(); } else { window.setTimeout(poll, 1000); }
    }).catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 700);
})();
