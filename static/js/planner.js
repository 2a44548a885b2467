// Planner console: select-all, a unit's work order while it renders (the page reloads when its
// state changes), and the print job's progress (polls until the file is ready).
(function () {
  var all = document.getElementById("all");
  if (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll('input[name="unit"]').forEach(function (box) { box.checked = all.checked; });
    });
  }
  var wait = document.getElementById("wo-wait");
  if (wait) {
    var render = document.getElementById("wo-render"), polls = 0;
    if (render) render.hidden = true;
    var check = function () {
      fetch(wait.dataset.stateUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (s) {
        if (s.status !== wait.dataset.status) {
          window.location.reload();
        } else if (++polls < 120) {
          setTimeout(check, 1000);
        } else {
          wait.textContent = "Still " + s.status + " after two minutes: is a render worker running? " +
            "Reload this page to look again, or render it now.";
          if (render) render.hidden = false;
        }
      }).catch(function () { if (++polls < 120) setTimeout(check, 2000); });
    };
    setTimeout(check, 1000);
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
