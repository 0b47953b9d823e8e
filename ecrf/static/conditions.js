// Shows or hides conditional items as the user types; the server applies the same rules on save.
(function () {
  "use strict";
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

  function holds(cond, scope) {
    if (cond.all) return cond.all.every((c) => holds(c, scope));
    if (cond.any) return cond.any.some((c) => holds(c, scope));
    const value = valueOf(scope, cond.item);
    const empty = value === "" || (Array.isArray(value) && value.length === 0);
    switch (cond.op) {
      case "filled": return !empty;
      case "empty": return empty;
      case "eq": return Array.isArray(value) ? value.includes(cond.value) : value === String(cond.value);
      case "ne": return Array.isArray(value) ? !value.includes(cond.value) : !empty && value !== String(cond.value);
      case "in": return cond.value.map(String).includes(value);
      default: {
        const number = parseFloat(value.replace(",", "."));
        if (empty || Number.isNaN(number)) return false;
        return { gt: number > cond.value, ge: number >= cond.value, lt: number < cond.value, le: number <= cond.value }[cond.op];
      }
    }
  }

  function refresh() {
    form.querySelectorAll("[data-shown-when]").forEach((wrapper) => {
      const scope = wrapper.closest("tr") || form;
      const shown = holds(JSON.parse(wrapper.dataset.shownWhen), scope);
      wrapper.hidden = !shown;
    });
  }

  form.addEventListener("input", refresh);
  form.addEventListener("change", refresh);
  refresh();
})();
