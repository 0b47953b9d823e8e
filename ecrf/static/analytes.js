// The flag of a laboratory table's row (crf/_analytes.html) follows the value and the limits
// as they are typed: H above the upper limit of normal, L below the lower one (the limits
// are in the value's unit). The server computes the same on the saved values
// (ecrf.crf.analytes.flag), and adds "!" for a value outside its unit's usual range.
(function () {
  "use strict";

  function asNumber(input) {
    // As the server reads a typed number: digits, one point or comma, an optional sign.
    const text = input ? input.value.trim() : "";
    if (!/^[+-]?(\d+([.,]\d*)?|[.,]\d+)$/.test(text)) return NaN;
    return parseFloat(text.replace(",", "."));
  }

  function update(row) {
    const cell = row.querySelector("td.flag-cell");
    const value = asNumber(document.getElementById(row.dataset.value));
    const low = asNumber(document.getElementById(row.dataset.low || ""));
    const high = asNumber(document.getElementById(row.dataset.high || ""));
    let flag = null;
    if (!Number.isNaN(value) && !Number.isNaN(high) && value > high) flag = ["H", "high", row.dataset.highWords];
    else if (!Number.isNaN(value) && !Number.isNaN(low) && value < low) flag = ["L", "low", row.dataset.lowWords];
    const old = cell.querySelector(".lab-flag");
    if (old) old.remove();
    if (!flag) return;
    const span = document.createElement("span");
    span.className = "lab-flag lab-flag-" + flag[1];
    span.title = flag[2];
    const letter = document.createElement("span");
    letter.setAttribute("aria-hidden", "true");
    letter.textContent = flag[0];
    const words = document.createElement("span");
    words.className = "visually-hidden";
    words.textContent = flag[2];
    span.append(letter, words);
    cell.prepend(span);
  }

  document.querySelectorAll("table.analytes tr[data-value]").forEach((row) => {
    row.addEventListener("input", (event) => {
      if (event.target.matches("input")) update(row);
    });
  });
})();
