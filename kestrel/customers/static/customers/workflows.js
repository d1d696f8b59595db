/* Kestrel 客隼 — customer workflow pages (ARC-12): copy a self-service link. A file, not inline
   script: the CSP allows none (PLT-3). The clipboard API needs a secure context (HTTPS or localhost);
   elsewhere the text is selected and copied the old way. */
(function () {
  "use strict";

  function copied(button) {
    var label = button.querySelector("span");
    if (!label || !button.dataset.copiedLabel) return;
    var before = label.textContent;
    label.textContent = button.dataset.copiedLabel;
    window.setTimeout(function () { label.textContent = before; }, 2000);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy-target]");
    if (!button) return;
    var field = document.querySelector(button.dataset.copyTarget);
    if (!field) return;
    field.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(function () { copied(button); });
    } else if (document.execCommand && document.execCommand("copy")) {
      copied(button);
    }
  });
})();
