// Planner console: select-all, and the print job's progress (polls until the file is ready).
(function () {
  var all = document.getElementById("all");
  if (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll('input[name="unit"]').forEach(function (box) { box.checked = all.checked; });
    });
  }
  var job = document.getElementById("job");
  if (!job) return;
  var bar = document.getElementById("job-progress"), status = document.getElementById("job-status");
  function poll() {
    fetch(job.dataset.stateUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (s) {
      bar.max = s.total; bar.value = s.done;
      if (s.status === "done") {
        status.textContent = "Ready: ";
        var a = document.createElement("a");
        a.href = job.dataset.downloadUrl; a.textContent = "download the " + s.format.toUpperCase();
        status.appendChild(a);
        window.location.href = job.dataset.downloadUrl;
      } else if (s.status === "failed") {
        status.textContent = "Failed: " + s.error;
      } else {
        status.textContent = s.done + " of " + s.total + " ready… this page updates by itself.";
        setTimeout(poll, 700);
      }
    }).catch(function () { setTimeout(poll, 2000); });
  }
  poll();
})();
