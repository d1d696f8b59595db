/* Kestrel 客隼 — customer pages (ARC-13): dialogs loaded by htmx into a Tabler modal, tabs that
   follow the URL hash. A file, not inline script: the CSP allows none (PLT-3). */
(function () {
  "use strict";

  // One lookup of Bootstrap's components, in kestrel.js (loaded first by the skeleton).
  function bs() {
    return window.Kestrel && window.Kestrel.bootstrap ? window.Kestrel.bootstrap() : null;
  }

  function modal() {
    var element = document.getElementById("customer-modal");
    return element && bs() ? bs().Modal.getOrCreateInstance(element) : null;
  }

  // A dialog saved: its section was swapped out of band; close the dialog.
  document.body.addEventListener("kestrel:dialog-saved", function () {
    var instance = modal();
    if (instance) instance.hide();
  });

  // Put the spinner back when the dialog closes, so the next one does not flash the old form.
  document.addEventListener("hidden.bs.modal", function (event) {
    if (event.target.id !== "customer-modal") return;
    var dialog = document.getElementById("customer-modal-dialog");
    var template = document.getElementById("customer-modal-loading");
    if (dialog && template) dialog.replaceChildren(template.content.cloneNode(true));
  });

  // Focus the first field once a dialog's form arrived.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "customer-modal-dialog") return;
    var field = event.detail.target.querySelector(".is-invalid, input:not([type=hidden]), select, textarea");
    if (field) field.focus();
  });

  // Tabs of the 360° page follow the hash (#contacts), so a link or a reload opens the right one.
  function showTab(hash) {
    if (!hash || !bs()) return;
    var link = document.querySelector('[data-bs-toggle="tab"][href="' + hash + '"]');
    if (link) bs().Tab.getOrCreateInstance(link).show();
  }
  document.addEventListener("DOMContentLoaded", function () { showTab(window.location.hash); });
  document.addEventListener("shown.bs.tab", function (event) {
    var hash = event.target.getAttribute("href");
    if (hash && hash.charAt(0) === "#") window.history.replaceState(window.history.state, "", hash);
  });
})();
