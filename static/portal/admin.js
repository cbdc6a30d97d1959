// The portal's additions to Django's admin: names for controls that Django's own scripts draw without one.
(function () {
  "use strict";

  function textOf(element) {
    return element ? element.textContent.replace(/[:\s]+$/, "").trim() : "";
  }

  // select2 (autocomplete fields) hides the <select> and draws a combobox named by the choice shown: with
  // no choice yet it has no name. It takes the field's label, or the select's own aria-label in an inline.
  function nameComboboxes(root) {
    root.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
      var container = select.nextElementSibling;
      if (!container || !container.classList.contains("select2")) return;
      var name = select.getAttribute("aria-label") || textOf(select.id && document.querySelector('label[for="' + select.id + '"]'));
      if (!name) return;
      container.querySelectorAll("[role=combobox], [role=textbox]").forEach(function (part) {
        part.setAttribute("aria-label", name);
      });
    });
  }

  // The filter boxes of a two-list picker (user groups, permissions) carry an icon whose aria-label is not
  // allowed on a plain span: as an image it may say what the box does.
  function nameTooltips(root) {
    root.querySelectorAll("span.help-tooltip[aria-label]:not([role])").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
  }

  // On a narrow screen a table of read-only rows (a cluster's nodes) scrolls sideways in its box, and with
  // nothing in it to focus, the keyboard could not scroll it: the box itself takes focus then.
  function reachScrollers() {
    document.querySelectorAll(".inline-group").forEach(function (group) {
      var inside = Array.prototype.some.call(
        group.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea"),
        function (el) { return el.offsetParent !== null; }
      );
      var heading = group.querySelector("h2");
      if (group.scrollWidth > group.clientWidth + 1 && !inside) {
        group.setAttribute("tabindex", "0");
        group.setAttribute("role", "region");
        group.setAttribute("aria-label", heading ? heading.textContent.trim() : "Table");
      } else if (group.getAttribute("role") === "region") {
        group.removeAttribute("tabindex");
        group.removeAttribute("role");
        group.removeAttribute("aria-label");
      }
    });
  }

  // All are drawn by Django's scripts on "load" (after this file's listener was added): run just after.
  window.addEventListener("load", function () {
    window.setTimeout(function () {
      nameComboboxes(document);
      nameTooltips(document);
      reachScrollers();
    }, 0);
  });
  window.addEventListener("resize", reachScrollers);
  document.addEventListener("formset:added", function (event) {
    window.setTimeout(function () { nameComboboxes(event.target); }, 0);
  });
})();
