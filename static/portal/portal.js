// Small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // The team switcher submits as soon as a team is picked.
  document.addEventListener("change", function (event) {
    var select = event.target.closest("select[data-autosubmit]");
    if (select && select.form) select.form.requestSubmit();
  });

  // A secret environment value is typed into a password field.
  document.addEventListener("change", function (event) {
    var box = event.target.closest("input[data-secret-toggle]");
    if (!box) return;
    var row = box.closest("[data-env-row]");
    var value = row && row.querySelector("input[data-env-value]");
    if (value) value.type = box.checked ? "password" : "text";
  });

  // "Add a variable": copy the formset's empty row and count it.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-add-env]");
    if (!button) return;
    var total = document.getElementById("id_env-TOTAL_FORMS");
    var template = document.getElementById("env-empty-row");
    var rows = document.getElementById("env-rows");
    if (!total || !template || !rows) return;
    var index = parseInt(total.value, 10);
    var html = template.innerHTML.replace(/__prefix__/g, String(index));
    rows.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    var added = rows.lastElementChild && rows.lastElementChild.querySelector("input");
    if (added) added.focus();
  });

  // The create form's free blocks: a pick fills the custom subnet (and the preview checks it).
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-fill-subnet]");
    var subnet = document.getElementById("id_subnet");
    if (!button || !subnet) return;
    subnet.value = button.getAttribute("data-fill-subnet");
    subnet.dispatchEvent(new Event("input", { bubbles: true }));
    subnet.focus();
  });

  // Buttons that remove or stop things ask first.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  }, true);

  // A field whose whole value is to be copied (a new API key) selects itself when focused.
  document.addEventListener("focusin", function (event) {
    var field = event.target.closest("input[data-select-on-focus]");
    if (field) field.select();
  });

  // A column header's sort link swaps the table it sits in: focus comes back to that column's new link.
  var sortedBy = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var link = event.target.closest && event.target.closest("a[data-sort-link]");
    if (link) sortedBy = link.getAttribute("data-sort-link");
  });

  // A list's live region says how many rows match (its results say it too, but are not live: a table
  // re-read on every keystroke of a search is noise). Copied only when it changed.
  document.addEventListener("htmx:afterSettle", function (event) {
    var status = document.querySelector("[data-match-status]");
    var count = event.target.querySelector && event.target.querySelector("[data-match-count]");
    if (status && count && status.textContent !== count.textContent) status.textContent = count.textContent;
    if (sortedBy && count) {
      var links = event.target.querySelectorAll("a[data-sort-link]");
      for (var i = 0; i < links.length; i++) {
        if (links[i].getAttribute("data-sort-link") === sortedBy) links[i].focus();
      }
      sortedBy = null;
    }
  });

  // A refused form opens with its summary of errors (templates/_form_errors.html): focus goes there,
  // on load and when htmx swaps a refused form in, so it is seen and read out at once.
  // A form without an action posts to the page's address, #main included after the skip link: the
  // browser's move to #main once the answer has loaded would take focus from the summary, so the
  // fragment is dropped and the summary focused again when loading ends.
  function focusErrorSummary(root) {
    var summary = root.querySelector("[data-error-summary]");
    if (!summary) return;
    if (root === document && location.hash) history.replaceState(null, "", location.pathname + location.search);
    summary.focus();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { focusErrorSummary(document); });
  } else {
    focusErrorSummary(document);
  }
  window.addEventListener("load", function () {
    var summary = document.querySelector("[data-error-summary]");
    if (summary && document.activeElement !== summary && document.activeElement === document.getElementById("main")) {
      summary.focus();
    }
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target && event.target.querySelector) focusErrorSummary(event.target);
  });

  // A summary's link goes to its field: focused, and scrolled to the middle so its label shows too.
  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-error-summary] a[href^='#']");
    if (!link) return;
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (!field) return;
    event.preventDefault();
    var details = field.closest("details");
    if (details) details.open = true;
    field.focus({ preventScroll: true });
    field.scrollIntoView({ block: "center" });
  });

  // The team's pages' disclosure in the menu closes on Escape (focus back on it) and when a click lands elsewhere.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var group = event.target.closest && event.target.closest("details.navgroup[open]");
    if (!group) return;
    group.open = false;
    group.querySelector("summary").focus();
  });
  document.addEventListener("click", function (event) {
    var open = document.querySelector("details.navgroup[open]");
    if (open && !open.contains(event.target)) open.open = false;
  });

  // On a phone the main menu folds behind its button; Escape folds it again and gives the button focus.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.menu-toggle[aria-controls]");
    if (!button) return;
    button.setAttribute("aria-expanded", button.getAttribute("aria-expanded") === "true" ? "false" : "true");
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var button = document.querySelector("button.menu-toggle[aria-expanded='true']");
    var menu = button && document.getElementById(button.getAttribute("aria-controls"));
    if (!menu || !(menu.contains(document.activeElement) || document.activeElement === button)) return;
    button.setAttribute("aria-expanded", "false");
    button.focus();
  });

  document.documentElement.classList.add("js");
  // A container's log box shows its newest lines: it scrolls to the end when lines come, unless the
  // reader scrolled up to read older ones.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var box = document.getElementById("log-lines");
    if (box) box.dataset.atEnd = String(box.scrollHeight - box.scrollTop - box.clientHeight < 40);
  });
  document.addEventListener("htmx:afterSettle", function () {
    var box = document.getElementById("log-lines");
    if (box && box.dataset.atEnd !== "false") box.scrollTop = box.scrollHeight;
  });
})();
