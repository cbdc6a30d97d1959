// The allocation map's grids (templates/networks/_pool_grid.html, role=grid): each is one stop of the Tab
// key, and the arrow keys, Home and End (Ctrl+Home and Ctrl+End: the whole grid) move between its squares
// (a roving tabindex). Without this file every square is a link of its own, reached by Tab.
(function () {
  "use strict";

  function rowsOf(grid) {
    var rows = [];
    grid.querySelectorAll("[role=row]").forEach(function (row) {
      rows.push(Array.prototype.slice.call(row.querySelectorAll("a.cell")));
    });
    return rows;
  }

  function rove(grid, target) {
    grid.querySelectorAll("a.cell").forEach(function (cell) {
      cell.setAttribute("tabindex", cell === target ? "0" : "-1");
    });
  }

  function setUp(root) {
    root.querySelectorAll("svg[data-grid-keys]").forEach(function (grid) {
      var current = grid.querySelector("a.cell[data-current]") || grid.querySelector("a.cell");
      if (current) rove(grid, current);
    });
  }

  var MOVES = {
    ArrowLeft: function (r, c) { return [r, c - 1]; },
    ArrowRight: function (r, c) { return [r, c + 1]; },
    ArrowUp: function (r, c) { return [r - 1, c]; },
    ArrowDown: function (r, c) { return [r + 1, c]; },
    Home: function (r, c, rows, ctrl) { return ctrl ? [0, 0] : [r, 0]; },
    End: function (r, c, rows, ctrl) {
      var last = ctrl ? rows.length - 1 : r;
      return [last, rows[last].length - 1];
    },
  };

  document.addEventListener("keydown", function (event) {
    var cell = event.target.closest && event.target.closest("svg[data-grid-keys] a.cell");
    var move = MOVES[event.key];
    if (!cell || !move || event.altKey || event.metaKey) return;
    var grid = cell.closest("svg[data-grid-keys]");
    var rows = rowsOf(grid);
    for (var r = 0; r < rows.length; r++) {
      var c = rows[r].indexOf(cell);
      if (c < 0) continue;
      var to = move(r, c, rows, event.ctrlKey);
      var next = rows[to[0]] && rows[to[0]][to[1]];
      event.preventDefault();  // at an edge the key does nothing, rather than scroll the page
      if (next) {
        rove(grid, next);
        next.focus();
      }
      return;
    }
  });

  // The picture keeps itself current (an htmx swap of #live): the new grids get their Tab stop again,
  // and a square that had focus has it back.
  var focused = null;
  document.addEventListener("htmx:beforeSwap", function () {
    var active = document.activeElement;
    focused = active && active.matches && active.matches("svg[data-grid-keys] a.cell") ? active.getAttribute("data-block") : null;
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    setUp(event.target);
    if (!focused) return;
    var again = event.target.querySelector('svg[data-grid-keys] a.cell[data-block="' + focused + '"]');
    if (again) {
      rove(again.closest("svg[data-grid-keys]"), again);
      again.focus();
    }
    focused = null;
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  } else {
    setUp(document);
  }
})();
