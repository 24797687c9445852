// Progressive enhancement for lead forms: attribution fields, inline errors, no page reload.
// Without this script the form posts normally and the server answers with a page.
(function () {
  "use strict";
  var UTM = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"];

  function setHidden(form, name, value) {
    var input = form.querySelector('input[type="hidden"][name="' + name + '"]');
    if (input && value && !input.value) input.value = value.slice(0, 200);
  }

  function clearErrors(form) {
    form.querySelectorAll(".field-error").forEach(function (p) { p.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    form.querySelector(".form-status").textContent = "";
  }

  function showStatus(form, text) {
    var status = form.querySelector(".form-status");
    var p = document.createElement("p");
    p.className = "form-error";
    p.textContent = text;
    status.replaceChildren(p);
  }

  function showErrors(form, errors, message) {
    var first = null;
    Object.keys(errors).forEach(function (name) {
      var slot = form.querySelector("#e-" + name);
      var input = form.elements[name];
      if (slot) slot.textContent = errors[name].join(" ");
      if (input && input.setAttribute) {
        input.setAttribute("aria-invalid", "true");
        if (!first) first = input;
      }
    });
    if (message || !first) showStatus(form, message || "Please check the form.");
    if (first) first.focus();
  }

  function showSuccess(form, body) {
    var box = document.createElement("div");
    box.className = "form-success card";
    box.setAttribute("role", "status");
    var p = document.createElement("p");
    p.textContent = body.message;
    box.appendChild(p);
    if (body.download_url) {
      var a = document.createElement("a");
      a.className = "button";
      a.href = body.download_url;
      a.textContent = "Download now";
      box.appendChild(a);
    }
    form.replaceWith(box);
    box.setAttribute("tabindex", "-1");
    box.focus();
  }

  function fetchStamp(form) {
    // The time-trap: a signed "shown at" from the server; a post sent sooner than a person
    // could fill the form is quietly dropped. Without it the post is judged like a no-JS one.
    // Not on the server's own form page: that visitor has filled the form once already.
    var input = form.querySelector('input[type="hidden"][name="stamp"]');
    if (!input || input.value || !window.fetch || window.location.pathname.indexOf("/forms/") === 0) return;
    fetch(form.action + "/stamp", { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : {}; })
      .then(function (body) { if (body.stamp && !input.value) input.value = body.stamp; })
      .catch(function () { /* no stamp: the form still works */ });
  }

  function countView(form, params) {
    // One cookie-free page view: the referrer's host and the campaign, nothing personal.
    if (!navigator.sendBeacon || window.location.pathname.indexOf("/forms/") === 0) return;
    var body = new URLSearchParams({ ref: document.referrer || "" });
    ["utm_source", "utm_medium", "utm_campaign"].forEach(function (name) {
      if (params.get(name)) body.set(name, params.get(name).slice(0, 200));
    });
    navigator.sendBeacon(form.action.replace(/\/forms\/([^\/]+)$/, "/t/view/$1"), body);
  }

  function enhance(form) {
    var params = new URLSearchParams(window.location.search);
    countView(form, params);
    fetchStamp(form);
    UTM.forEach(function (name) { setHidden(form, name, params.get(name)); });
    try { setHidden(form, "tz", Intl.DateTimeFormat().resolvedOptions().timeZone); } catch (e) { /* old browser */ }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearErrors(form);
      var button = form.querySelector('button[type="submit"]');
      button.disabled = true;
      fetch(form.action, {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        headers: { Accept: "application/json" }
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          if (response.status === 201) return showSuccess(form, body);
          if (response.status === 422 && body.errors) return showErrors(form, body.errors, body.message);
          showStatus(form, body.error || "Something went wrong. Please try again in a moment.");
        });
      }).catch(function () {
        showStatus(form, "We could not reach the server. Check your connection and try again.");
      }).finally(function () { button.disabled = false; });
    });
  }

  document.querySelectorAll("form.lead-form").forEach(enhance);
})();
