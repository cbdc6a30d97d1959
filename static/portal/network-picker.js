// The run form's network picker (templates/networks/container_run.html). Without this script the page
// offers a list of the team's networks and an "Add network" button, which draw the form again with the
// network's row (networks/forms/containers.py, network_picker_step). With it, the list becomes a box to
// type part of a name in (a combobox): its matches are offered below it, the arrows move among them,
// Enter or a click adds one, Escape closes them; each network picked gets a row with its aliases, its
// static address and Remove, copied from the page's template. The rows post what the list posts.
(function () {
  "use strict";

  var SHOWN = 8; // matches offered at once: typing more of the name narrows them

  function fill(row, name) {
    // The network's name goes in as text and attribute values, never as markup.
    var walker = document.createTreeWalker(row, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      if (walker.currentNode.nodeValue.indexOf("__name__") !== -1) {
        walker.currentNode.nodeValue = walker.currentNode.nodeValue.split("__name__").join(name);
      }
    }
    var elements = [row].concat(Array.prototype.slice.call(row.querySelectorAll("*")));
    elements.forEach(function (element) {
      Array.prototype.slice.call(element.attributes).forEach(function (attribute) {
        if (attribute.value.indexOf("__name__") !== -1) {
          element.setAttribute(attribute.name, attribute.value.split("__name__").join(name));
        }
      });
    });
  }

  function setUp(picker) {
    var select = picker.querySelector("select[data-picker-choice]");
    var rows = picker.querySelector("[data-picked]");
    var template = picker.querySelector("template");
    var listbox = picker.querySelector("[role='listbox']");
    var status = picker.querySelector("[data-picker-status]");
    if (!select || !rows || !template || !listbox || !status) return;

    var networks = [];
    var byId = {};
    Array.prototype.forEach.call(select.options, function (option) {
      if (!option.value) return;
      var network = { id: option.value, name: option.textContent, key: option.textContent.toLowerCase() };
      network.picked = option.disabled;
      networks.push(network);
      byId[network.id] = network;
    });

    // The box takes the list's place, its id (the error summary links to it) and its description.
    var input = document.createElement("input");
    input.type = "text";
    input.id = select.id;
    ["aria-describedby", "aria-invalid"].forEach(function (name) {
      if (select.hasAttribute(name)) input.setAttribute(name, select.getAttribute(name));
    });
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listbox.id);
    input.setAttribute("autocomplete", "off");
    input.setAttribute("spellcheck", "false");
    input.placeholder = "Type part of a network's name";
    var more = document.createElement("p");
    more.className = "picker-more muted small-text";
    more.hidden = true;
    var controls = select.closest(".picker-controls") || select;
    controls.replaceWith(input);
    listbox.after(more);
    // Each row's Remove works in place; without this script it is a submit button.
    rows.querySelectorAll("[data-picked-remove]").forEach(function (button) { button.type = "button"; });

    var shown = [];
    var active = -1;

    function say(text) { status.textContent = text; }

    function refreshEmpty() {
      var any = rows.querySelector("[data-picked-network]") !== null;
      var head = picker.querySelector(".picked-head");
      var none = picker.querySelector("[data-picked-none]");
      if (head) head.hidden = !any;
      if (none) none.hidden = any;
    }

    function close() {
      listbox.hidden = true;
      more.hidden = true;
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function highlight(index) {
      active = index;
      var options = listbox.querySelectorAll("[role='option']");
      options.forEach(function (option, i) { option.setAttribute("aria-selected", i === index ? "true" : "false"); });
      if (index >= 0 && options[index]) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function open() {
      var query = input.value.trim().toLowerCase();
      var found = networks.filter(function (network) {
        return !network.picked && network.key.indexOf(query) !== -1;
      });
      shown = found.slice(0, SHOWN);
      listbox.textContent = "";
      shown.forEach(function (network) {
        var option = document.createElement("li");
        option.id = "network-option-" + network.id;
        option.setAttribute("role", "option");
        option.setAttribute("data-network", network.id);
        option.textContent = network.name;
        listbox.appendChild(option);
      });
      listbox.hidden = shown.length === 0;
      input.setAttribute("aria-expanded", shown.length ? "true" : "false");
      more.hidden = found.length <= shown.length;
      more.textContent = (found.length - shown.length) + " more: type more of the name to narrow the list.";
      highlight(shown.length ? 0 : -1);
      if (!found.length) say(query ? "No network you have not picked matches “" + input.value.trim() + "”." : "Every network is picked.");
      else say(found.length === 1 ? "1 network matches." : found.length + " networks match.");
    }

    function add(network) {
      network.picked = true;
      var holder = document.createElement("ul");
      holder.innerHTML = template.innerHTML.split("__pk__").join(network.id); // ids are digits
      var row = holder.querySelector("[data-picked-network]");
      fill(row, network.name);
      row.querySelector("[data-picked-remove]").type = "button";
      rows.appendChild(row);
      refreshEmpty();
      input.value = "";
      close();
      var count = rows.querySelectorAll("[data-picked-network]").length;
      say("Added " + network.name + ": " + count + (count === 1 ? " network" : " networks") + " picked.");
    }

    function remove(row) {
      var network = byId[row.getAttribute("data-picked-network")];
      if (network) network.picked = false;
      row.remove();
      refreshEmpty();
      input.focus();
      say("Removed " + (network ? network.name : "the network") + ".");
    }

    input.addEventListener("input", open);
    input.addEventListener("keydown", function (event) {
      var isOpen = !listbox.hidden;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (!isOpen) open();
        else highlight(Math.min(active + 1, shown.length - 1));
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        if (isOpen) highlight(Math.max(active - 1, 0));
      } else if (event.key === "Enter") {
        // Enter adds the network offered; it never sends the form from this box unless the box is empty.
        if (isOpen && active >= 0) {
          event.preventDefault();
          add(shown[active]);
        } else if (input.value.trim()) {
          event.preventDefault();
          open();
        }
      } else if (event.key === "Escape") {
        if (isOpen) {
          event.preventDefault();
          close();
        } else {
          input.value = "";
        }
      }
    });
    input.addEventListener("blur", function () { window.setTimeout(close, 150); });
    listbox.addEventListener("mousedown", function (event) { event.preventDefault(); }); // the box keeps focus
    listbox.addEventListener("click", function (event) {
      var option = event.target.closest("[role='option']");
      if (option && byId[option.getAttribute("data-network")]) add(byId[option.getAttribute("data-network")]);
    });
    rows.addEventListener("click", function (event) {
      var button = event.target.closest("[data-picked-remove]");
      if (!button) return;
      event.preventDefault();
      remove(button.closest("[data-picked-network]"));
    });
  }

  function start() {
    document.querySelectorAll("[data-network-picker]").forEach(setUp);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
