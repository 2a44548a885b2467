// The configurator, live: every change asks the server what is still possible and updates the
// page in place. Without this script the page works by posting the form (the same answers).
(function () {
  "use strict";
  var form = document.getElementById("configurator");
  if (!form || !window.fetch) { return; }
  var api = form.getAttribute("data-api");
  var touched = {};
  // Options we picked for the shopper (the spec's defaults): they give way to the shopper's own
  // choices. The server decides; this only carries its answer from one request to the next.
  var pickedField = document.getElementById("auto-picked");
  var picked = parsePicked(pickedField ? pickedField.value : "{}");
  var timer = null;
  var pending = null;

  function each(list, fn) { Array.prototype.forEach.call(list, fn); }

  function parsePicked(text) {
    try { var value = JSON.parse(text); return value && typeof value === "object" ? value : {}; }
    catch (e) { return {}; }
  }

  function setPicked(value) {
    picked = value || {};
    if (pickedField) { pickedField.value = JSON.stringify(picked); }
  }

  function fieldSection(name) {
    if (name.indexOf("option_") === 0) { return ["options", name.slice(7)]; }
    if (name.indexOf("measure_") === 0) { return ["measurements", name.slice(8)]; }
    if (name.indexOf("text_") === 0) { return ["texts", name.slice(5)]; }
    return null;
  }

  function currentDesign() {
    var design = { options: {}, measurements: {}, texts: {} };
    each(form.elements, function (el) {
      var where = el.name ? fieldSection(el.name) : null;
      if (!where || el.disabled || el.closest("[hidden]")) { return; }
      if (el.type === "radio" && !el.checked) { return; }
      var value = (el.value || "").trim();
      if (value !== "") { design[where[0]][where[1]] = value; }
    });
    return design;
  }

  function schedule(delay) {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, delay);
  }

  function refresh() {
    if (pending) { pending.abort(); }
    pending = new AbortController();
    fetch(api, {
      method: "POST", signal: pending.signal, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({ design: currentDesign(), auto: picked })
    }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    }).then(apply).catch(function (error) {
      if (error.name !== "AbortError") { form.classList.add("offline"); }
    });
  }

  function money(currency, amount) { return currency + " " + amount; }

  function setText(id, text) {
    var el = document.getElementById(id);
    if (el) { el.textContent = text; }
  }

  function applyOptions(answer) {
    var appeared = [];
    each(form.querySelectorAll("fieldset[data-option]"), function (fs) {
      var id = fs.getAttribute("data-option");
      var active = answer.active[id] !== false;
      if (active && fs.hidden) { appeared.push(fs); }
      fs.hidden = !active;
      fs.disabled = !active;
      var states = answer.options[id] || {};
      each(fs.querySelectorAll("[data-choice]"), function (el) {
        var state = states[el.getAttribute("data-choice")];
        if (!state) { return; }
        var reasons = state.reasons.map(function (r) { return r.message; }).join(" ");
        var input = el.tagName === "OPTION" ? el : el.querySelector("input");
        var chosen = el.tagName === "OPTION" ? el.selected : input.checked;
        input.disabled = !state.available && !chosen;
        if (el.tagName === "OPTION") {
          var li = fs.querySelector('[data-reason-for="' + CSS.escape(el.value) + '"]');
          if (li) { li.hidden = state.available; li.textContent = el.textContent + ": " + reasons; }
          return;
        }
        el.classList.toggle("unavailable", !state.available);
        var reason = el.querySelector(".reason");
        if (reason) { reason.hidden = state.available; reason.textContent = reasons; }
      });
    });
    return appeared;
  }

  function chooseDefaults(fieldsets) {
    // An option that just started to apply (the waistcoat's, say) starts at the spec's default.
    var changed = false;
    fieldsets.forEach(function (fs) {
      var wanted = fs.getAttribute("data-default");
      if (!wanted || fs.querySelector("input:checked") || fs.querySelector("select")) { return; }
      var input = fs.querySelector('input[value="' + CSS.escape(wanted) + '"]');
      if (input && !input.disabled) {
        input.checked = true; changed = true;
        picked[fs.getAttribute("data-option")] = wanted;
      }
    });
    return changed;
  }

  function applyTexts(answer) {
    each(form.querySelectorAll("[data-text]"), function (box) {
      var input = box.querySelector("input");
      var field = fieldSection(input.name);
      var applies = textApplies(answer, field[1]);
      box.hidden = !applies;
      input.disabled = !applies;
    });
  }

  function textApplies(answer, id) {
    return (answer.texts_active || {})[id] !== false;
  }

  function applyMeasurements(answer) {
    each(form.querySelectorAll("[data-measure]"), function (box) {
      var id = box.getAttribute("data-measure");
      var range = answer.measurements[id];
      var out = document.getElementById("range-" + id);
      if (!range || !out) { return; }
      var unit = out.getAttribute("data-unit");
      var impossible = range.min === null || range.max === null;
      out.classList.toggle("impossible", impossible);
      out.textContent = impossible ? "No value fits your other entries; please check them."
        : range.min + " to " + range.max + " " + unit;
    });
  }

  function applyPrice(price, feasible) {
    setText("price-caption", price.complete ? "Price" : "Price so far");
    setText("price-total", money(price.currency, price.total));
    var lines = document.getElementById("price-lines");
    lines.textContent = "";
    price.lines.forEach(function (line) {
      var li = document.createElement("li");
      var label = document.createElement("span");
      var amount = document.createElement("span");
      label.textContent = line.label;
      amount.textContent = money(price.currency, line.amount);
      li.appendChild(label); li.appendChild(document.createTextNode(" ")); li.appendChild(amount);
      lines.appendChild(li);
    });
    ["parts-caption", "price-parts"].forEach(function (id) {
      document.getElementById(id).hidden = !price.complete;
    });
    document.getElementById("parts-pending").hidden = price.complete;
    var parts = document.querySelectorAll("#price-parts dd");
    [price.materials, price.labour, price.margin].forEach(function (value, i) {
      if (parts[i]) { parts[i].textContent = money(price.currency, value); }
    });
    document.getElementById("feasible").hidden = feasible;
  }

  function applyErrors(answer) {
    var messages = {};
    answer.violations.forEach(function (v) {
      v.fields.forEach(function (path) {
        var name = { options: "option_", measurements: "measure_", texts: "text_" }[path.split(".")[0]];
        if (!name) { return; }
        name += path.split(".").slice(1).join(".");
        if (v.rule === "required" || !touched[name]) { return; }
        (messages[name] = messages[name] || []).push(v.message);
      });
    });
    each(form.querySelectorAll("[data-errors-for]"), function (box) {
      var name = box.getAttribute("data-errors-for");
      if (!touched[name] && !box.hasAttribute("data-server")) { return; }
      var list = messages[name] || [];
      box.textContent = "";
      list.filter(function (m, i) { return list.indexOf(m) === i; }).forEach(function (m) {
        var span = document.createElement("span");
        span.className = "error"; span.textContent = m; box.appendChild(span);
      });
      box.hidden = list.length === 0;
      each(form.querySelectorAll('[name="' + CSS.escape(name) + '"]'), function (input) {
        input.setAttribute("aria-invalid", list.length ? "true" : "false");
      });
    });
  }

  function applyChanges(answer) {
    // Options we had picked that clashed with the shopper's choice: show the new value and why.
    (answer.changes || []).forEach(function (change) {
      var fs = form.querySelector('fieldset[data-option="' + CSS.escape(change.option) + '"]');
      if (!fs) { return; }
      var select = fs.querySelector("select");
      if (select) { select.value = change.now; return; }
      var input = fs.querySelector('input[value="' + CSS.escape(change.now) + '"]');
      if (input) { input.disabled = false; input.checked = true; }
    });
    var box = document.getElementById("auto-changes");
    if (box && answer.changes && answer.changes.length) {
      box.textContent = "";
      answer.changes.forEach(function (change) {
        var p = document.createElement("p");
        p.textContent = change.message;
        box.appendChild(p);
      });
      box.hidden = false;
    }
    if (answer.auto) { setPicked(answer.auto); }
  }

  function apply(answer) {
    form.classList.remove("offline");
    applyChanges(answer);
    var appeared = applyOptions(answer);
    applyTexts(answer);
    applyMeasurements(answer);
    applyPrice(answer.price, answer.feasible);
    applyErrors(answer);
    document.getElementById("preview").innerHTML = answer.preview;  // built and escaped by the server
    if (chooseDefaults(appeared)) { schedule(0); return; }
    form.dispatchEvent(new CustomEvent("configurator:updated", { detail: answer }));
  }

  each(form.querySelectorAll("[data-errors-for]"), function (box) {
    if (!box.hidden) { box.setAttribute("data-server", ""); }
  });
  form.addEventListener("change", function (event) {
    var name = event.target.name || "";
    if (name) { touched[name] = true; }
    if (name.indexOf("option_") === 0) {
      delete picked[name.slice(7)];  // the shopper's own choice from now on
      var box = document.getElementById("auto-changes");
      if (box) { box.hidden = true; }
    }
    schedule(0);
  });
  form.addEventListener("input", function (event) {
    if (event.target.type === "radio") { return; }
    if (event.target.name) { touched[event.target.name] = true; }
    schedule(350);
  });
  var update = document.getElementById("update-button");
  if (update) { update.textContent = "Check my design"; }
  form.setAttribute("data-live", "yes");
})();
