// Shows or hides conditional items as the user types; the server applies the same rules on
// save (forms.language.holds). tests/browser/test_conditions.py holds the two to the same
// answer for every operator and type of item.
(function () {
  "use strict";

  function isEmpty(value) {
    return value === "" || (Array.isArray(value) && value.length === 0);
  }

  function asNumber(text) {
    // As the server reads a typed number: digits, one point or comma, an optional sign.
    if (!/^[+-]?(\d+([.,]\d*)?|[.,]\d+)$/.test(text)) return NaN;
    return parseFloat(text.replace(",", "."));
  }

  function same(value, expected) {
    // A number in the definition compares as a number ("70.0" is 70); a code as its text.
    if (typeof expected === "number") return asNumber(value) === expected;
    return value === String(expected);
  }

  // Whether ``cond`` holds when ``valueOf(item)`` gives each item's text as typed (or the
  // list of codes ticked for a multiple choice).
  function holds(cond, valueOf) {
    if (cond.all) return cond.all.every((c) => holds(c, valueOf));
    if (cond.any) return cond.any.some((c) => holds(c, valueOf));
    const value = valueOf(cond.item);
    if (cond.op === "filled") return !isEmpty(value);
    if (cond.op === "empty") return isEmpty(value);
    if (isEmpty(value)) return false;
    if (Array.isArray(value)) {
      // A multiple choice: "eq" means "includes", "ne" "does not include".
      if (cond.op === "eq") return value.includes(cond.value);
      if (cond.op === "ne") return !value.includes(cond.value);
      return false;
    }
    switch (cond.op) {
      case "eq": return same(value, cond.value);
      case "ne": return !same(value, cond.value);
      case "in": return cond.value.some((expected) => same(value, expected));
      default: {
        const number = asNumber(value);
        if (Number.isNaN(number)) return false;
        return { gt: number > cond.value, ge: number >= cond.value, lt: number < cond.value, le: number <= cond.value }[cond.op];
      }
    }
  }

  window.ecrfConditions = { holds: holds };

  const form = document.getElementById("entry-form");
  if (!form) return;

  function valueOf(scope, itemOid) {
    // The same row first, then the form's single (non-repeating) groups.
    for (const root of [scope, form]) {
      const wrapper = root.querySelector('[data-item="' + itemOid + '"]');
      if (!wrapper) continue;
      const checked = wrapper.querySelectorAll("input[type=checkbox]:checked");
      if (wrapper.querySelector("input[type=checkbox]")) return Array.from(checked, (c) => c.value);
      const input = wrapper.querySelector("input, select, textarea");
      return input ? input.value.trim() : "";
    }
    return "";
  }

  function refresh() {
    form.querySelectorAll("[data-shown-when]").forEach((wrapper) => {
      const scope = wrapper.closest("tr, [data-row]") || form;
      const condition = JSON.parse(wrapper.dataset.shownWhen);
      wrapper.hidden = !holds(condition, (item) => valueOf(scope, item));
    });
  }

  form.addEventListener("input", refresh);
  form.addEventListener("change", refresh);
  refresh();
})();
