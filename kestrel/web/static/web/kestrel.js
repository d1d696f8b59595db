/* Kestrel 客隼 — page behaviour. Loaded as a file because the CSP allows no inline script (PLT-3). */
(function () {
  "use strict";

  // Alpine (CSP build) components: registered before Alpine starts; templates only name them.
  document.addEventListener("alpine:init", function () {
    window.Alpine.data("passwordToggle", function () {
      return {
        visible: false,
        toggle: function () { this.visible = !this.visible; },
        get inputType() { return this.visible ? "text" : "password"; },
        get iconClass() { return this.visible ? "ti-eye-off" : "ti-eye"; },
      };
    });
  });

  function loginPath() {
    return document.body ? document.body.dataset.loginUrl : null;
  }

  // An htmx request that was redirected to the login page (session expired) reloads the whole
  // page there instead of swapping a login form into a table.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (!xhr || !xhr.responseURL || !loginPath()) return;
    var url = new URL(xhr.responseURL);
    if (url.pathname === loginPath()) {
      event.detail.shouldSwap = false;
      window.location.assign(window.location.pathname === loginPath() ? url.href : loginPath() + "?next=" + encodeURIComponent(window.location.pathname + window.location.search));
    }
  });

  // Tabler's bundle exposes Bootstrap's components as window.tabler, not window.bootstrap.
  function bootstrapComponents() {
    return window.bootstrap || (window.tabler && (window.tabler.bootstrap || window.tabler)) || null;
  }
  window.Kestrel = window.Kestrel || {};
  window.Kestrel.bootstrap = bootstrapComponents;

  function showRequestError(message) {
    var toast = document.getElementById("kestrel-request-error");
    var bs = bootstrapComponents();
    if (!toast || !bs) return;
    toast.querySelector(".toast-body").textContent = message(toast);
    bs.Toast.getOrCreateInstance(toast).show();
  }

  // htmx does not swap 4xx/5xx answers; say something instead of doing nothing.
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    showRequestError(function (toast) {
      return status === 403 ? toast.dataset.forbidden : toast.dataset.failed;
    });
  });
  document.addEventListener("htmx:sendError", function () {
    showRequestError(function (toast) {
      return toast.dataset.failed;
    });
  });

  // Org tree: mark the clicked department at once; the employee table follows through htmx.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-org-node]");
    if (!link || event.metaKey || event.ctrlKey || event.shiftKey) return;
    document.querySelectorAll("[data-org-node].active").forEach(function (other) {
      other.classList.remove("active");
      other.removeAttribute("aria-current");
    });
    link.classList.add("active");
    link.setAttribute("aria-current", "true");
  });
})();
